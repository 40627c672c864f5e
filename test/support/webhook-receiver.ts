// A real HTTP webhook receiver for the webhook tests: records every request
// (headers and body), answers as told, and can go down and come back on the
// same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The parsed body: { type, timestamp, data }. */
  event: { type: string; timestamp: string; data: Record<string, unknown> };
}

/** ok: 204; fail: 503; hang: never answer (the request stays open until the receiver stops). */
export type ReceiverMode = 'ok' | 'fail' | 'hang';

export class WebhookReceiver {
  /** Every request, in arrival order (retries included). */
  readonly received: ReceivedWebhook[] = [];
  mode: ReceiverMode = 'ok';
  private server: Server | null = null;
  private port = 0;
  private readonly open = new Set<ServerResponse>();

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 100;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening and drops every connection (hung requests included). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const res of this.open) res.destroy();
    this.open.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** The distinct webhook-ids received, in order of first arrival. */
  distinct(): ReceivedWebhook[] {
    const seen = new Set<string>();
    return this.received.filter((r) => !seen.has(r.id) && seen.add(r.id));
  }

  /** Whether each received request verifies against `secret` (standardwebhooks, timestamp tolerance included). */
  allVerify(secret: string): boolean {
    const wh = new Webhook(secret);
    return this.received.every((r) => {
      try {
        wh.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature });
        return true;
      } catch {
        return false;
      }
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.received.push({
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        event: JSON.parse(body) as ReceivedWebhook['event'],
      });
      if (this.mode === 'hang') {
        this.open.add(res);
        return;
      }
      res.statusCode = this.mode === 'ok' ? 204 : 503;
      res.end();
    });
  }
}
