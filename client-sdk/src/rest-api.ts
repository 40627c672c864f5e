import type { Endpoints } from './endpoints.js';
import { localError, RoomcastError, isErrorCode } from './errors.js';
import type { ErrorCode, ErrorResponse } from './protocol.js';

/** The subset of `fetch` the SDK uses (pass your own for cookies, proxies, tests). */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface RestOptions {
  endpoints: Endpoints;
  fetch: FetchLike;
  /** Browser refresh mode: send cookies (`credentials: 'include'`) on /api/auth calls. */
  includeCredentials: boolean;
  timeoutMs: number;
}

export interface RestRequest {
  body?: unknown;
  /** Access token for `Authorization: Bearer`. */
  token?: string;
  /** Send cookies (the browser-mode refresh token). */
  withCookies?: boolean;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
};

/**
 * JSON over fetch against the current endpoint. A network failure moves on
 * to the next endpoint (each is tried once); an error answer becomes a
 * RoomcastError with the contract code.
 */
export class RestApi {
  constructor(private readonly options: RestOptions) {}

  async request<T>(method: string, path: string, request: RestRequest = {}): Promise<T> {
    let lastError: RoomcastError | null = null;
    for (let tried = 0; tried < this.options.endpoints.size; tried++) {
      const base = tried === 0 ? this.options.endpoints.current() : this.options.endpoints.next();
      let response: Response;
      try {
        response = await this.options.fetch(base + path, {
          method,
          headers: {
            accept: 'application/json',
            ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
          },
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
          credentials: request.withCookies && this.options.includeCredentials ? 'include' : 'same-origin',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
      } catch (err) {
        lastError = localError('network', `${method} ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      return readAnswer<T>(response);
    }
    throw lastError ?? localError('network', `${method} ${path} failed`);
  }
}

async function readAnswer<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: handled below */
  }
  if (response.ok) return body as T;
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  const error = (body as Partial<ErrorResponse> | null)?.error;
  if (error && isErrorCode(error.code) && typeof error.message === 'string') {
    throw RoomcastError.fromBody(error, response.status, retryAfter);
  }
  const code = STATUS_CODES[response.status] ?? (response.status >= 500 ? 'unavailable' : 'internal');
  throw new RoomcastError(code, `HTTP ${response.status}`, undefined, response.status, retryAfter);
}
