// One entry of the REST route table: what the OpenAPI document says about a
// route and what Express runs for it, in one value. The table builder (see
// build-router.ts) applies the access rule and parses params, query and body
// with the entry's schemas before the handler runs, so a handler only ever
// sees input the document promises to accept.
import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { ApiKeyActor } from '../../admin/actors.js';
import type { ApiKeyScope, ErrorCode } from '../../protocol.js';
import type { Actor } from '../../rooms/room-service.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: anyone, a signed-in user, an admin, the holder of a
 * refresh token, a metrics scraper, or the app's backend with a server API
 * key (`server`, with the route's `scope`).
 */
export type Access = 'anyone' | 'user' | 'admin' | 'refresh' | 'scraper' | 'server';

/**
 * The middleware that enforces each access rule, passed in by the
 * composition root (so token checks stay in one place outside the table).
 * 'anyone' and 'refresh' usually get none: a refresh route reads its token itself.
 */
export type AccessGuards = Record<Exclude<Access, 'server'>, RequestHandler[]> & {
  /** The guard of a server API route: a live key with this scope. */
  server: (scope: ApiKeyScope) => RequestHandler[];
};

export type RouteTag = 'auth' | 'rooms' | 'admin' | 'server' | 'operations' | 'docs';

export type AuthenticatedActor = Actor & { username: string };

/** What a handler knows about its request besides the parsed input. */
export interface RouteContext<A extends Access> {
  /** The caller, for routes whose access rule authenticates one. */
  actor: A extends 'user' | 'admin' ? AuthenticatedActor : undefined;
  /** The server API key calling, for `server` routes. */
  key: A extends 'server' ? ApiKeyActor : undefined;
  /** Client address (X-Forwarded-For only from trusted proxies). */
  ip: string;
  log: Logger;
  /** For cookies and headers only: the builder sends the answer. */
  req: Request;
  res: Response;
}

/** An answer other than the route's documented success status, e.g. /readyz's 503. */
export class Reply<T = unknown> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}

/** A response the route documents besides its success and its error codes. */
export interface OtherAnswer {
  status: number;
  description: string;
  schema: z.ZodType;
}

export interface Success<R> {
  status: number;
  description: string;
  /** The body's shape; none for 204. */
  schema?: z.ZodType<R>;
  /** Defaults to application/json; any other type is sent as the string the handler returns. */
  contentType?: string;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type MaybeSchema = z.ZodType | undefined;

export interface RouteInput<P extends MaybeSchema, Q extends MaybeSchema, B extends MaybeSchema> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

export interface RouteSpec<A extends Access, P extends MaybeSchema, Q extends MaybeSchema, B extends MaybeSchema, R> {
  method: HttpMethod;
  /** Express syntax, full path: `/api/rooms/:id`. */
  path: string;
  summary: string;
  description?: string;
  tag: RouteTag;
  access: A;
  /** The API key scope a `server` route needs (required there, nowhere else). */
  scope?: A extends 'server' ? ApiKeyScope : never;
  params?: P;
  query?: Q;
  body?: B;
  /** A request body the body schema accepts (checked by a test, shown in the document). */
  example?: B extends z.ZodType ? z.input<B> : never;
  success: Success<R>;
  /**
   * Error codes the handler itself may answer. Those of the access rule, of
   * input validation and of the transport (body parsing, origin, outages)
   * are added by the builder.
   */
  errors?: ErrorCode[];
  others?: OtherAnswer[];
  handle(input: RouteInput<P, Q, B>, context: RouteContext<A>): R | Reply | Promise<R | Reply>;
}

/** A table entry with its types erased, as the builders see it. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: RouteTag;
  readonly access: Access;
  readonly scope?: ApiKeyScope;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly example?: unknown;
  readonly success: Success<unknown>;
  readonly errors?: readonly ErrorCode[];
  readonly others?: readonly OtherAnswer[];
  handle(input: { params: unknown; query: unknown; body: unknown }, context: RouteContext<Access>): unknown;
}

/**
 * Declares a route. The generics tie the handler's input to the schemas and
 * its answer to the success schema, so neither can drift from the document.
 */
export function route<A extends Access, P extends MaybeSchema = undefined, Q extends MaybeSchema = undefined, B extends MaybeSchema = undefined, R = undefined>(
  spec: RouteSpec<A, P, Q, B, R>,
): Route {
  // Erasing the generics is safe: the builder passes exactly the parsed input the spec typed.
  return spec as unknown as Route;
}
