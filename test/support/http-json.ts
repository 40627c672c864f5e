// One HTTP JSON client for the tests, the benchmark and the chaos runner.

export interface JsonAnswer<T = unknown> {
  status: number;
  /** The parsed JSON, the raw text when it is not JSON, or null when empty. */
  body: T;
  text: string;
  headers: Headers;
  /** How long the request took, in milliseconds. */
  ms: number;
}

export interface JsonRequestOptions {
  /** Sent as a Bearer header. */
  token?: string;
  /** JSON-encoded; a string is sent as is (malformed-body probes). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Aborts the request after this long; none by default. */
  timeoutMs?: number;
}

/** A request to `baseUrl + path` that reads the answer as JSON; it resolves for any status. */
export async function requestJson<T = unknown>(baseUrl: string, method: string, path: string, options: JsonRequestOptions = {}): Promise<JsonAnswer<T>> {
  const started = performance.now();
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const response = await fetch(baseUrl + path, { method, headers, body, signal });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers, ms: performance.now() - started };
}

/** The parsed body of a request that must succeed (setup steps); throws with the status and text otherwise. */
export async function expectJson<T>(baseUrl: string, method: string, path: string, options: JsonRequestOptions = {}): Promise<T> {
  const answer = await requestJson<T>(baseUrl, method, path, options);
  if (answer.status < 200 || answer.status > 299) throw new Error(`${method} ${path}: ${answer.status} ${answer.text}`);
  return answer.body;
}
