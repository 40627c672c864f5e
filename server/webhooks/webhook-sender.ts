// One webhook attempt over HTTP(S): no redirects (node:http follows none; a
// 3xx is a failure), the address policy applied to the resolved address, a
// deadline for the whole exchange and a cap on the response read.
import http from 'node:http';
import https from 'node:https';
import { checkAddress, guardedLookup, literalHost, TargetRefused } from './address-policy.js';

/** Bytes of a receiver's answer read at most (the body is not used; reading it lets the connection end cleanly). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  /** Ends the attempt at once (a node that stops). */
  signal?: AbortSignal;
  /** Keep the answer's body (up to MAX_RESPONSE_BYTES) in the result: the before-publish hook reads its verdict there. */
  readBody?: boolean;
  /** Reuse connections (the before-publish hook's keep-alive agent); none: one connection per attempt. */
  agent?: http.Agent;
}

/** The receiver's HTTP status, or an error text when there was none (refused, timeout, connection error). */
export type SendResult = { status: number; body?: string; truncated?: boolean } | { status: null; error: string };

/** POSTs `body` with `headers` to `url`. Never throws. */
export function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
      const literal = literalHost(target);
      if (literal) checkAddress(literal, options.allowPrivateNetworks);
    } catch (err) {
      return resolve({ status: null, error: err instanceof TargetRefused ? err.message : 'invalid URL' });
    }
    const client = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Roomcast-Webhooks/1' },
        lookup: guardedLookup(options.allowPrivateNetworks),
        agent: options.agent ?? false,
      },
      (res) => {
        let read = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (options.readBody) chunks.push(chunk);
          if (read > MAX_RESPONSE_BYTES) {
            finish(options.readBody ? { status: res.statusCode ?? 0, truncated: true } : { status: res.statusCode ?? 0 });
            res.destroy();
          }
        });
        res.on('end', () => finish(options.readBody ? { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') } : { status: res.statusCode ?? 0 }));
        // A body cut short is no verdict: only a read body may be relied on.
        res.on('error', () => finish(options.readBody ? { status: null, error: 'the answer was cut short' } : { status: res.statusCode ?? 0 }));
      },
    );
    const timer = setTimeout(() => {
      finish({ status: null, error: `no answer within ${options.timeoutMs} ms` });
      req.destroy();
    }, options.timeoutMs);
    const abort = () => {
      finish({ status: null, error: 'aborted' });
      req.destroy();
    };
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    req.on('close', () => options.signal?.removeEventListener('abort', abort));
    req.on('error', (err) => finish({ status: null, error: err instanceof TargetRefused ? err.message : `request failed: ${(err as NodeJS.ErrnoException).code ?? err.message}` }));
    req.end(body);
  });
}
