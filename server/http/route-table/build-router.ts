import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors.js';
import { actorOf, apiKeyOf } from '../request-context.js';
import { parse } from '../validate.js';
import { Reply, type AccessGuards, type Route, type RouteContext, type Access } from './route.js';

/** Routes under this prefix are mounted behind the API's origin check and body parsers. */
export const API_PREFIX = '/api';

export interface RestRouters {
  /** Routes outside /api (health, readiness, metrics), mounted first. */
  operations: Router;
  /** Routes under /api, with paths relative to it. */
  api: Router;
}

/** Express routers for the whole table: one for operations, one for the API. */
export function buildRouters(routes: readonly Route[], guards: AccessGuards): RestRouters {
  const isApi = (route: Route) => route.path === API_PREFIX || route.path.startsWith(`${API_PREFIX}/`);
  return {
    operations: buildRouter(routes.filter((route) => !isApi(route)), guards, ''),
    api: buildRouter(routes.filter(isApi), guards, API_PREFIX),
  };
}

function buildRouter(routes: readonly Route[], guards: AccessGuards, prefix: string): Router {
  const router = Router();
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) {
    const path = route.path.slice(prefix.length) || '/';
    router[route.method](path, ...guardsOf(route, guards), handler(route));
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), route.method.toUpperCase()]);
  }
  // After every route, so only a method no route of that path took reaches these.
  for (const [path, methods] of methodsByPath) router.all(path, methodNotAllowed(methods));
  return router;
}

function guardsOf(route: Route, guards: AccessGuards): RequestHandler[] {
  if (route.access !== 'server') return guards[route.access];
  if (!route.scope) throw new Error(`${route.method} ${route.path}: a server route needs a scope`);
  return guards.server(route.scope);
}

function handler(route: Route): RequestHandler {
  return async (req: Request, res: Response) => {
    // Access first (its guards ran already), then one validation path for every input.
    const input = {
      params: route.params ? parse(route.params, req.params) : undefined,
      query: route.query ? parse(route.query, req.query) : undefined,
      body: route.body ? parse(route.body, req.body) : undefined,
    };
    const context: RouteContext<Access> = {
      actor: route.access === 'user' || route.access === 'admin' ? actorOf(req) : undefined,
      key: route.access === 'server' ? apiKeyOf(req) : undefined,
      ip: req.ip ?? 'unknown',
      log: req.log,
      req,
      res,
    };
    send(res, route, await route.handle(input, context));
  };
}

function send(res: Response, route: Route, answer: unknown): void {
  const { status, body } = answer instanceof Reply ? answer : { status: route.success.status, body: answer };
  res.status(status);
  if (status === 204) return void res.end();
  const contentType = route.success.contentType ?? 'application/json';
  if (contentType === 'application/json') return void res.json(body);
  // A handler may name a more precise type (Prometheus's version parameter).
  if (!res.get('content-type')) res.type(contentType);
  res.send(String(body));
}

/**
 * A known path asked with a method it does not have: 405 with `Allow`
 * (RFC 9110), so a client learns the route exists and what it takes.
 * OPTIONS on an operations path answers the same list with 204.
 */
function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : [...methods];
  const allow = allowed.join(', ');
  return (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next(new AppError('method_not_allowed', `${req.method} is not allowed on this path; allowed: ${allow}`));
  };
}
