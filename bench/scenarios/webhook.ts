// `--webhook` (issue 15): scenario (b) again, with one webhook endpoint
// subscribed to message.created, so the report states what an endpoint costs
// the send path (stored msg/s, ack latency, server and database CPU) next to
// the run without one. The endpoint is a receiver in the bench process on
// 127.0.0.1 that answers 204 (the nodes run with
// WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); after the ramp the bench waits
// (bounded) until every stored message was delivered, and the endpoint is
// removed so later scenarios on the same database pay nothing for it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withClient } from '../../db/databases.js';
import { expectJson, requestJson } from '../../test/support/http-json.js';
import type { DeliveryRecorder } from '../load.js';
import type { Sizes } from '../sizes.js';
import type { Account, Target } from '../targets.js';
import { runSmallRooms, type SmallRoomsResult } from './small-rooms.js';

/** Node settings for the run with an endpoint: the receiver is on loopback. */
export const WEBHOOK_NODE_ENV: Readonly<Record<string, string>> = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };

export interface WebhookFigures {
  events: string[];
  /** Messages acked (stored) during the ramp. */
  acked: number;
  /** Distinct webhook-ids the receiver got (each message once). */
  delivered: number;
  /** Requests the receiver got, retries and repeats included. */
  requests: number;
  /** Seconds from the ramp's end until every acked message was delivered (or the wait gave up). */
  drainSeconds: number;
  /** Every acked message was delivered within the wait. */
  allDelivered: boolean;
}

export type WebhookRunResult = (SmallRoomsResult & { webhook: WebhookFigures }) | { available: false; reason: string };

/** A receiver that answers 204 to every POST and counts distinct webhook-ids. */
class Receiver {
  readonly ids = new Set<string>();
  requests = 0;
  #server: Server | null = null;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        this.requests++;
        this.ids.add(String(req.headers['webhook-id']));
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/roomcast`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** An admin of the target: registered, promoted in the database, signed in again (the role is in the token). */
async function adminOf(target: Target, databaseUrl: string): Promise<Account> {
  const [account] = await target.createAccounts(1);
  await withClient(databaseUrl, (client) => client.query(`update users set role = 'admin' where id = $1`, [account!.userId]));
  const base = target.nodes[0]!.url;
  const { accessToken } = await expectJson<{ accessToken: string }>(base, 'POST', '/api/auth/login', { body: { login: account!.login, password: account!.password, client: 'native' }, timeoutMs: 60_000 });
  return { ...account!, token: accessToken };
}

export async function runSmallRoomsWithWebhook(
  target: Target,
  sizes: Sizes['smallRooms'],
  recorder: DeliveryRecorder,
  databaseUrl: string | null,
  drainLimitMs: number,
): Promise<WebhookRunResult> {
  if (!databaseUrl) return { available: false, reason: 'not available: registering an endpoint needs an admin, made in PostgreSQL (DATABASE_URL)' };
  const receiver = new Receiver();
  const url = await receiver.start();
  const base = target.nodes[0]!.url;
  const admin = await adminOf(target, databaseUrl);
  const events = ['message.created'];
  // Answers after 2 × WEBHOOK_SUBSCRIPTION_REFRESH_MS: every send of the ramp is seen by the outbox.
  const endpoint = await expectJson<{ id: string }>(base, 'POST', '/api/admin/webhooks', { token: admin.token, body: { url, events }, timeoutMs: 30_000 });
  try {
    const result = await runSmallRooms(target, sizes, recorder, databaseUrl);
    const acked = result.ramp.steps.reduce((sum, s) => sum + s.acked, 0);
    const ended = performance.now();
    while (receiver.ids.size < acked && performance.now() - ended < drainLimitMs) await new Promise((r) => setTimeout(r, 100));
    const drainSeconds = Math.round(performance.now() - ended) / 1000;
    return { ...result, webhook: { events, acked, delivered: receiver.ids.size, requests: receiver.requests, drainSeconds, allDelivered: receiver.ids.size >= acked } };
  } finally {
    await requestJson(base, 'DELETE', `/api/admin/webhooks/${endpoint.id}`, { token: admin.token, timeoutMs: 30_000 });
    await receiver.stop();
  }
}
