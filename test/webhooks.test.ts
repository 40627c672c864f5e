import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Message, MessageResult, Room, WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint } from '../server/protocol.js';
import { createServer, type Server } from 'node:http';
import { isPublicAddress } from '../server/webhooks/address-policy.js';
import { retryDelayMs } from '../server/webhooks/webhook-dispatcher.js';
import { MAX_RESPONSE_BYTES, postWebhook } from '../server/webhooks/webhook-sender.js';
import { listenOnLoopback } from './support/free-port.js';
import { auditEntries } from './support/admin.js';
import { environment } from './support/environment.js';
import { createMigratedDatabase, recordSkip } from './support/services.js';
import { startNodeProcess, stopChildren } from './support/processes.js';
import { Webhook } from 'standardwebhooks';
import { WebhookReceiver, type ReceivedWebhook } from './support/webhook-receiver.js';
import { createApp } from '../server/app.js';
import { WebhookStore } from '../db/stores/webhook-store.js';
import { closeAll, connect, createRoom, http, issuedSecrets, ok, registerAdmin, registerUser, startNode, testConfig, testLogger, useNode, waitFor, type ChatClient, type TestUser } from './support/util.js';

/** Test nodes reach the receivers on 127.0.0.1 and retry quickly. */
const FAST_WEBHOOKS = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_RETRY_BASE_MS: '100', WEBHOOK_RETRY_MAX_MS: '1000', WEBHOOK_POLL_MS: '50', WEBHOOK_SUBSCRIPTION_REFRESH_MS: '100' };

const receivers: WebhookReceiver[] = [];
async function receiver(): Promise<WebhookReceiver> {
  const r = await new WebhookReceiver().start();
  receivers.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function register(app: string | Parameters<typeof http>[0], admin: TestUser, url: string, events: string[]): Promise<WebhookEndpoint> {
  const res = await http<WebhookEndpoint>(app, 'POST', '/api/admin/webhooks', { token: admin.accessToken, body: { url, events } });
  if (res.status !== 201) throw new Error(`webhook registration failed: ${res.status} ${JSON.stringify(res.body)}`);
  issuedSecrets.add(res.body.secret); // the run's log check (secrets-in-logs) looks for it too
  return res.body;
}

/** Each room's seqs in the order their first delivery arrived. */
function seqsByRoom(received: ReceivedWebhook[]): Map<string, number[]> {
  const byRoom = new Map<string, number[]>();
  for (const r of received) {
    const data = r.event.data as unknown as Message;
    byRoom.set(data.roomId, [...(byRoom.get(data.roomId) ?? []), data.seq]);
  }
  return byRoom;
}

/** /metrics of an in-process node (loopback needs no token). */
async function metricsText(app: Parameters<typeof http>[0]): Promise<string> {
  const res = await http<string>(app, 'GET', '/metrics');
  expect(res.status).to.equal(200);
  return res.body;
}
/** One sample's value by its exact series text before the value (the node label is added by prom-client, so match by prefix). */
function metric(text: string, series: string): number {
  const [name, labels] = series.includes('{') ? [series.slice(0, series.indexOf('{')), series.slice(series.indexOf('{') + 1, -1)] : [series, ''];
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && (!labels || l.includes(labels)) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const send = (socket: ChatClient, roomId: string, content: string) => ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });

describe('webhooks', () => {
  describe('delivery from one node', () => {
    const node = useNode({ ...FAST_WEBHOOKS, MESSAGE_RATE_LIMIT: '0' });
    afterEach(async () => {
      // Endpoints are cluster-wide rows of the shared test database: remove them so later suites do not deliver to them.
      await environment.get().database.knex('webhook_endpoints').delete();
    });

    it('when a burst of sends goes to three rooms, then every message arrives exactly once per webhook-id, signed, in each room\'s order', async function () {
      this.timeout(30_000);
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['message.created']);
      expect(endpoint.secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
      const rooms = await Promise.all([1, 2, 3].map(() => createRoom(node.app, admin.accessToken)));
      const socket = await connect(node.app, { token: admin.accessToken });

      const acks = await Promise.all(rooms.flatMap((room) => Array.from({ length: 20 }, (_, i) => send(socket, room.id, `burst ${i}`))));

      await waitFor(() => hook.distinct().length >= acks.length, 20_000, 'every message delivered');
      expect(hook.received.length, 'no webhook-id twice').to.equal(acks.length);
      expect(hook.allVerify(endpoint.secret)).to.equal(true);
      expect(new Set(hook.received.map((r) => (r.event.data as unknown as Message).id))).to.deep.equal(new Set(acks.map((a) => a.message.id)));
      for (const [roomId, seqs] of seqsByRoom(hook.received)) {
        expect(seqs, `room ${roomId}`).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      }
      // The body's data is the Message exactly as the sender's ack had it (built in SQL: same fields, same ISO times).
      const ackById = new Map(acks.map((a) => [a.message.id, a.message]));
      for (const r of hook.received) {
        expect(r.event.type).to.equal('message.created');
        expect(r.event.data).to.deep.equal(ackById.get((r.event.data as unknown as Message).id));
      }
    });

    it('when rooms, members, edits, deletions and bans happen, then each event type arrives for an endpoint subscribed to it and no other', async function () {
      this.timeout(20_000);
      const all = await receiver();
      const onlyMembers = await receiver();
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      await register(node.app, admin, all.url, ['message.created', 'message.updated', 'message.deleted', 'member.joined', 'member.left', 'user.banned', 'room.created']);
      await register(node.app, admin, onlyMembers.url, ['member.joined', 'member.left']);

      const room = await createRoom(node.app, admin.accessToken);
      const memberSocket = await connect(node.app, { token: member.accessToken });
      await ok(memberSocket, 'room:join', { roomId: room.id });
      const { message } = await send(memberSocket, room.id, 'first');
      await ok(memberSocket, 'message:edit', { messageId: message.id, content: 'edited' });
      await ok(memberSocket, 'message:delete', { messageId: message.id });
      const removed = await http(node.app, 'DELETE', `/api/rooms/${room.id}/members/${member.user.id}`, { token: admin.accessToken });
      expect(removed.status).to.equal(204);
      const banned = await http(node.app, 'PATCH', `/api/admin/users/${member.user.id}`, { token: admin.accessToken, body: { banned: true } });
      expect(banned.status).to.equal(200);

      // The room's events keep their order; user.banned has no room, so it is in a lane of its own.
      const inRoom = ['room.created', 'member.joined', 'message.created', 'message.updated', 'message.deleted', 'member.left'];
      await waitFor(() => all.distinct().length >= inRoom.length + 1, 10_000, 'every event type');
      const types = all.distinct().map((r) => r.event.type);
      expect(types.filter((t) => t !== 'user.banned')).to.deep.equal(inRoom);
      expect(types.filter((t) => t === 'user.banned')).to.have.length(1);
      expect(all.distinct().find((r) => r.event.type === 'message.updated')!.event.data).to.include({ id: message.id, content: 'edited' });
      expect(all.distinct().find((r) => r.event.type === 'user.banned')!.event.data).to.include({ userId: member.user.id });
      await waitFor(() => onlyMembers.distinct().length >= 2, 10_000, 'member events');
      expect(onlyMembers.distinct().map((r) => [r.event.type, r.event.data])).to.deep.equal([
        ['member.joined', { roomId: room.id, userId: member.user.id }],
        ['member.left', { roomId: room.id, userId: member.user.id }],
      ]);
    });

    it('when reactions are added and removed and a reply is sent, then message.reaction events arrive signed, in the room\'s order, with action and counts, none for a reaction that changes nothing or is refused, and the reply is a message.created with replyToSeq', async function () {
      this.timeout(20_000);
      const hook = await receiver();
      const onlyCreated = await receiver();
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['message.created', 'message.reaction']);
      await register(node.app, admin, onlyCreated.url, ['message.created']);
      const room = await createRoom(node.app, admin.accessToken);
      const [adminSocket, memberSocket] = await Promise.all([connect(node.app, { token: admin.accessToken }), connect(node.app, { token: member.accessToken })]);
      await ok(adminSocket, 'room:join', { roomId: room.id });
      await ok(memberSocket, 'room:join', { roomId: room.id });
      const { message } = await send(adminSocket, room.id, 'react to me');
      const react = (socket: ChatClient, emoji: string) => ok<MessageResult>(socket, 'message:react', { messageId: message.id, emoji });
      const unreact = (socket: ChatClient, emoji: string) => ok<MessageResult>(socket, 'message:unreact', { messageId: message.id, emoji });
      const acks = [await react(memberSocket, '👍'), await react(adminSocket, '👍'), await react(adminSocket, '🎉')];
      await react(memberSocket, '👍'); // there already: no change, no event
      acks.push(await unreact(memberSocket, '👍'));
      await unreact(memberSocket, '🔥'); // not there: no change, no event
      const reply = await ok<MessageResult>(memberSocket, 'message:send', { roomId: room.id, content: 'a reply', clientMsgId: randomUUID(), replyToSeq: message.seq });
      // A refused reaction (on a deleted message) commits nothing, so no event either.
      const { message: gone } = await send(adminSocket, room.id, 'deleted soon');
      await ok(adminSocket, 'message:delete', { messageId: gone.id });
      const refused = await new Promise<{ ok: boolean }>((resolve) => memberSocket.emit('message:react', { messageId: gone.id, emoji: '👍' }, resolve));
      expect(refused.ok).to.equal(false);

      await waitFor(() => hook.distinct().length >= 7, 10_000, 'three messages and four reactions');
      expect(hook.allVerify(endpoint.secret)).to.equal(true);
      // One lane per room: the reactions between the messages they followed.
      expect(hook.distinct().map((r) => r.event.type)).to.deep.equal(['message.created', ...Array(4).fill('message.reaction'), 'message.created', 'message.created']);
      const reactions = hook.distinct().filter((r) => r.event.type === 'message.reaction').map((r) => r.event.data);
      const base = { roomId: room.id, messageId: message.id, seq: message.seq };
      expect(reactions).to.deep.equal([
        { ...base, change: acks[0]!.message.change, emoji: '👍', userId: member.user.id, action: 'added', reactions: [{ emoji: '👍', count: 1 }] },
        { ...base, change: acks[1]!.message.change, emoji: '👍', userId: admin.user.id, action: 'added', reactions: [{ emoji: '👍', count: 2 }] },
        { ...base, change: acks[2]!.message.change, emoji: '🎉', userId: admin.user.id, action: 'added', reactions: [{ emoji: '👍', count: 2 }, { emoji: '🎉', count: 1 }] },
        { ...base, change: acks[3]!.message.change, emoji: '👍', userId: member.user.id, action: 'removed', reactions: [{ emoji: '👍', count: 1 }, { emoji: '🎉', count: 1 }] },
      ]);
      // Each reaction is a change of the room: numbered in order.
      expect(reactions.map((d) => d.change as number)).to.deep.equal([...reactions.map((d) => d.change as number)].sort((a, b) => a - b));
      const replied = hook.distinct().find((r) => (r.event.data as unknown as Message).id === reply.message.id)!;
      expect(replied.event.type).to.equal('message.created');
      expect(replied.event.data).to.include({ replyToSeq: message.seq });
      // An endpoint without message.reaction hears only the messages.
      await waitFor(() => onlyCreated.distinct().length >= 3, 10_000, 'the messages');
      expect(onlyCreated.distinct().map((r) => r.event.type)).to.deep.equal(['message.created', 'message.created', 'message.created']);
      expect(hook.distinct(), 'nothing after the messages: no event for the unchanged or refused reactions').to.have.length(7);
    });

    it('when the receiver is down for a while, then every event is delivered after it is back, in order, with its first webhook-id', async function () {
      this.timeout(30_000);
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['message.created']);
      const room = await createRoom(node.app, admin.accessToken);
      const socket = await connect(node.app, { token: admin.accessToken });
      hook.mode = 'fail';
      const acks: MessageResult[] = [];
      for (let i = 0; i < 5; i++) acks.push(await send(socket, room.id, `while down ${i}`));
      const deliveries = async () =>
        (await http<WebhookDeliveryPage>(node.app, 'GET', `/api/admin/webhooks/${endpoint.id}/deliveries`, { token: admin.accessToken })).body.deliveries;
      // The head of the room's lane retries; the later ones wait behind it.
      await waitFor(async () => (await deliveries()).some((d) => d.attempts >= 3), 10_000, 'three failed attempts');
      const whileDown = await metricsText(node.app);
      expect(metric(whileDown, 'roomcast_webhook_lag_seconds')).to.be.above(0);
      expect(metric(whileDown, 'roomcast_webhook_deliveries_total{outcome="failed"}')).to.be.at.least(3);
      await hook.stop();
      await new Promise((r) => setTimeout(r, 300));
      hook.mode = 'ok';
      await hook.start();

      await waitFor(async () => (await deliveries()).every((d) => d.status === 'delivered'), 15_000, 'all delivered');
      // The lane's head blocked the rest: each event's first attempt came after the previous one's.
      expect(hook.distinct().map((r) => (r.event.data as unknown as Message).seq)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(hook.allVerify(endpoint.secret)).to.equal(true);
      const rows = await deliveries();
      expect(new Set(hook.received.map((r) => r.id))).to.deep.equal(new Set(rows.map((d) => d.id)));
      const head = rows.find((d) => (d.data as Message).seq === 1)!;
      expect(head.attempts).to.be.greaterThan(3);
      expect(head.lastError).to.equal(null);
      expect(hook.received.filter((r) => r.id === head.id).length, 'retries of the head share its id').to.be.greaterThan(3);
      const after = await metricsText(node.app);
      expect(metric(after, 'roomcast_webhook_deliveries_total{outcome="delivered"}')).to.be.at.least(5);
      expect(metric(after, 'roomcast_webhook_lag_seconds')).to.equal(0);
    });

    it('when a secret is rotated, then deliveries carry a signature for the old and the new secret during the grace, and only the new one after', async function () {
      this.timeout(15_000);
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['room.created']);
      const rotate = (body: object) => http<WebhookEndpoint>(node.app, 'POST', `/api/admin/webhooks/${endpoint.id}/rotate-secret`, { token: admin.accessToken, body });
      const verifies = (r: ReceivedWebhook, secret: string) => {
        try {
          new Webhook(secret).verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature });
          return true;
        } catch {
          return false;
        }
      };

      const rotated = await rotate({ graceSeconds: 60 });
      expect(rotated.status).to.equal(200);
      expect(rotated.body.secret).to.match(/^whsec_/).and.not.equal(endpoint.secret);
      issuedSecrets.add(rotated.body.secret);
      await createRoom(node.app, admin.accessToken);
      await waitFor(() => hook.distinct().length >= 1, 10_000, 'a delivery during the grace');
      expect(verifies(hook.received[0]!, endpoint.secret), 'old secret').to.equal(true);
      expect(verifies(hook.received[0]!, rotated.body.secret), 'new secret').to.equal(true);

      const again = await rotate({ graceSeconds: 0 });
      issuedSecrets.add(again.body.secret);
      await createRoom(node.app, admin.accessToken);
      await waitFor(() => hook.distinct().length >= 2, 10_000, 'a delivery after the grace');
      const last = hook.distinct()[1]!;
      expect(verifies(last, again.body.secret)).to.equal(true);
      expect(verifies(last, rotated.body.secret)).to.equal(false);
      expect((await rotate({ secret: 'whsec_short' })).status).to.equal(400);
      expect((await http(node.app, 'POST', `/api/admin/webhooks/${randomUUID()}/rotate-secret`, { token: admin.accessToken, body: {} })).status).to.equal(404);
    });

    it('when delivered deliveries are older than the retention, then pruning deletes them and keeps failed, pending and recent ones', async function () {
      this.timeout(15_000);
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['room.created']);
      await Promise.all([1, 2, 3].map(() => createRoom(node.app, admin.accessToken)));
      const knex = environment.get().database.knex;
      await waitFor(async () => (await knex('webhook_deliveries').where({ endpoint_id: endpoint.id, status: 'delivered' })).length === 3, 10_000, 'three deliveries');
      const [old, failed] = (await knex('webhook_deliveries').where({ endpoint_id: endpoint.id }).orderBy('seq').select('seq')) as { seq: string }[];
      await knex('webhook_deliveries').where({ seq: old!.seq }).update({ delivered_at: knex.raw("now() - interval '8 days'") });
      await knex('webhook_deliveries').where({ seq: failed!.seq }).update({ status: 'failed', delivered_at: null, created_at: knex.raw("now() - interval '30 days'") });

      const pruned = await new WebhookStore(knex).pruneDelivered(7);

      expect(pruned).to.equal(1);
      const left = (await knex('webhook_deliveries').where({ endpoint_id: endpoint.id }).orderBy('seq').select('seq', 'status')) as { seq: string; status: string }[];
      expect(left.map((r) => r.status)).to.deep.equal(['failed', 'delivered']);
    });

    it('when an endpoint is removed, then its deliveries stop and its deliveries route answers not_found', async () => {
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['room.created']);
      const list = await http<{ webhooks: WebhookEndpoint[] }>(node.app, 'GET', '/api/admin/webhooks', { token: admin.accessToken });
      expect(list.body.webhooks.map((w) => w.id)).to.include(endpoint.id);

      expect((await http(node.app, 'DELETE', `/api/admin/webhooks/${endpoint.id}`, { token: admin.accessToken })).status).to.equal(204);
      await createRoom(node.app, admin.accessToken);

      const page = await http(node.app, 'GET', `/api/admin/webhooks/${endpoint.id}/deliveries`, { token: admin.accessToken });
      expect(page.status).to.equal(404);
      expect((await http(node.app, 'DELETE', `/api/admin/webhooks/${endpoint.id}`, { token: admin.accessToken })).status).to.equal(404);
      const rows = await environment.get().database.knex('webhook_deliveries').where({ endpoint_id: endpoint.id });
      expect(rows).to.have.length(0);
      const created = (await auditEntries(node.app, admin.accessToken, 'webhook_create')).find((e) => e.targetId === endpoint.id);
      expect(created).to.include({ actorId: admin.user.id, targetType: 'webhook' });
      expect(JSON.stringify(created!.details)).to.not.include(endpoint.secret);
      expect((await auditEntries(node.app, admin.accessToken, 'webhook_delete')).map((e) => e.targetId)).to.include(endpoint.id);
    });
  });

  describe('an endpoint registered on another node', () => {
    afterEach(async () => {
      await environment.get().database.knex('webhook_endpoints').delete();
    });
    afterEach(closeAll);

    it('when a message is sent on node b right after node a answered the registration, then it is delivered (b\'s "nobody listens" cache cannot be older than the wait)', async function () {
      this.timeout(20_000);
      // Each node re-reads the subscriptions every second, so b's cache is from before the registration.
      const env = { ...FAST_WEBHOOKS, WEBHOOK_SUBSCRIPTION_REFRESH_MS: '1000' };
      const [a, b] = [await startNode(env), await startNode(env)];
      const hook = await receiver();
      const admin = await registerAdmin(a);
      const room = await createRoom(b, admin.accessToken);
      const socket = await connect(b, { token: admin.accessToken });
      await new Promise((r) => setTimeout(r, 1_200)); // b has read "no endpoints" at least once

      const started = Date.now();
      await register(a, admin, hook.url, ['message.created']);
      const { message } = await send(socket, room.id, 'right after the 201');

      expect(Date.now() - started, 'registration waits for the caches').to.be.at.least(2_000);
      await waitFor(() => hook.distinct().length >= 1, 10_000, 'the message to arrive');
      expect((hook.received[0]!.event.data as unknown as Message).id).to.equal(message.id);
    });
  });

  describe('retries that run out', () => {
    const node = useNode({ ...FAST_WEBHOOKS, WEBHOOK_RETRY_WINDOW_S: '1' });
    afterEach(async () => {
      await environment.get().database.knex('webhook_endpoints').delete();
    });

    it('when a receiver fails past the retry window, then the delivery is failed, and a replay sends it again with the same id', async function () {
      this.timeout(20_000);
      const hook = await receiver();
      const admin = await registerAdmin(node.app);
      const endpoint = await register(node.app, admin, hook.url, ['room.created']);
      hook.mode = 'fail';
      const room = await createRoom(node.app, admin.accessToken);
      const path = `/api/admin/webhooks/${endpoint.id}/deliveries`;
      const deliveries = async () => (await http<WebhookDeliveryPage>(node.app, 'GET', path, { token: admin.accessToken })).body.deliveries;
      await waitFor(async () => (await deliveries())[0]?.status === 'failed', 10_000, 'the delivery to fail');
      const [failed] = await deliveries();
      expect(failed).to.include({ type: 'room.created', lastStatus: 503, lastError: 'HTTP 503', nextAttemptAt: null });

      hook.mode = 'ok';
      const replayed = await http<{ delivery: WebhookDelivery }>(node.app, 'POST', `${path}/${failed!.id}/replay`, { token: admin.accessToken });
      expect(replayed.status).to.equal(202);
      expect(replayed.body.delivery).to.include({ id: failed!.id, status: 'pending' });
      await waitFor(async () => (await deliveries())[0]?.status === 'delivered', 10_000, 'the replay to arrive');
      const last = hook.received[hook.received.length - 1]!;
      expect(last.id).to.equal(failed!.id);
      expect(last.event.data).to.include({ id: room.id });
      const unknown = await http(node.app, 'POST', `${path}/${randomUUID()}/replay`, { token: admin.accessToken });
      expect(unknown.status).to.equal(404);
    });
  });

  describe('on the embedded database (PGlite)', () => {
    afterEach(closeAll);

    it('when a message is sent, then it reaches the endpoint, signed (one process: no lock is held during the attempt)', async function () {
      this.timeout(60_000);
      const hook = await receiver();
      const app = await createApp(testConfig({ ...FAST_WEBHOOKS, DATABASE_URL: 'memory' }), { logger: testLogger() });
      await app.listen();
      try {
        const admin = await registerUser(app);
        const endpoint = await register(app, admin, hook.url, ['message.created']);
        const room = await createRoom(app, admin.accessToken);
        const socket = await connect(app, { token: admin.accessToken });
        const acks = await Promise.all([1, 2, 3].map((i) => send(socket, room.id, `embedded ${i}`)));
        await waitFor(() => hook.distinct().length >= 3, 10_000, 'three deliveries');
        expect(hook.distinct().map((r) => (r.event.data as unknown as Message).id)).to.deep.equal(acks.map((a) => a.message.id));
        expect(hook.allVerify(endpoint.secret)).to.equal(true);
        socket.disconnect();
      } finally {
        await app.close();
      }
    });
  });

  describe('private network targets', () => {
    const node = useNode({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });

    it('when an admin registers a loopback, private, link-local or mapped address, or a name resolving to loopback, then it is refused with validation_failed', async () => {
      const admin = await registerAdmin(node.app);
      for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://10.1.2.3/hook', 'http://169.254.169.254/latest', 'http://[::1]/hook', 'http://[::ffff:127.0.0.1]/hook', 'http://0.0.0.0/hook', 'ftp://example.com/hook']) {
        const res = await http(node.app, 'POST', '/api/admin/webhooks', { token: admin.accessToken, body: { url, events: ['message.created'] } });
        expect(res.status, url).to.equal(400);
        expect(res.body.error.code, url).to.equal('validation_failed');
      }
      const badSecret = await http(node.app, 'POST', '/api/admin/webhooks', { token: admin.accessToken, body: { url: 'http://127.0.0.1/hook', events: ['message.created'], secret: 'not-a-secret' } });
      expect(badSecret.status).to.equal(400);
    });

    it('when a delivery goes to a name that resolves to loopback, then the connection is refused on the resolved address and the receiver gets nothing', async () => {
      const hook = await receiver();
      const url = hook.url.replace('127.0.0.1', 'localhost');

      const refused = await postWebhook(url, {}, '{}', { timeoutMs: 2_000, allowPrivateNetworks: false });
      const literal = await postWebhook(hook.url, {}, '{}', { timeoutMs: 2_000, allowPrivateNetworks: false });
      const allowed = await postWebhook(url, {}, '{}', { timeoutMs: 2_000, allowPrivateNetworks: true });

      expect(refused).to.have.property('status', null);
      expect((refused as { error: string }).error).to.match(/not public/);
      expect(literal).to.have.property('status', null);
      expect(allowed).to.deep.equal({ status: 204 });
      expect(hook.received).to.have.length(1);
    });
  });

  describe('one outbound attempt', () => {
    let server: Server | null = null;
    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
      server = null;
    });
    /** A receiver answering with `handler`, on 127.0.0.1; resolves with its URL. */
    async function answering(handler: Parameters<typeof createServer>[1]): Promise<string> {
      server = createServer(handler);
      return `http://127.0.0.1:${await listenOnLoopback(server)}/hook`;
    }
    const options = { timeoutMs: 500, allowPrivateNetworks: true };

    it('when the receiver redirects, then the redirect is not followed and the attempt counts as its 3xx', async () => {
      let requests = 0;
      const url = await answering((req, res) => {
        requests++;
        res.writeHead(307, { location: '/elsewhere' }).end();
      });
      expect(await postWebhook(url, {}, '{}', options)).to.deep.equal({ status: 307 });
      expect(requests).to.equal(1);
    });

    it('when the receiver does not answer in time, then the attempt ends at the timeout without a status', async () => {
      const url = await answering(() => undefined);
      const started = Date.now();
      const result = await postWebhook(url, {}, '{}', options);
      expect(result).to.deep.equal({ status: null, error: 'no answer within 500 ms' });
      expect(Date.now() - started).to.be.below(5_000);
    });

    it('when the receiver answers with an endless body, then the attempt ends after the response cap with its status', async () => {
      let written = 0;
      const url = await answering((req, res) => {
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 'x');
        const pump = () => {
          while (written < 100 * MAX_RESPONSE_BYTES && res.write(chunk)) written += chunk.length;
          if (written < 100 * MAX_RESPONSE_BYTES) res.once('drain', pump);
          else res.end();
        };
        pump();
      });
      expect(await postWebhook(url, {}, '{}', { ...options, timeoutMs: 5_000 })).to.deep.equal({ status: 200 });
      expect(written).to.be.below(100 * MAX_RESPONSE_BYTES);
    });

    it('judges addresses: only public unicast passes, IPv4-mapped IPv6 as the IPv4 it carries', () => {
      const refused = ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '::1', '::', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip'];
      for (const address of refused) expect(isPublicAddress(address), address).to.equal(false);
      for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(address), address).to.equal(true);
    });

    it('retries first within the base delay, then doubling with jitter up to the cap', () => {
      const config = { retryBaseMs: 2_000, retryMaxMs: 60_000 };
      expect(retryDelayMs(0, config, () => 0)).to.equal(1_000);
      expect(retryDelayMs(0, config, () => 1)).to.equal(2_000);
      expect(retryDelayMs(3, config, () => 1)).to.equal(16_000);
      expect(retryDelayMs(40, config, () => 1)).to.equal(60_000);
    });
  });

  describe('a node killed mid-delivery', () => {
    let databaseUrl: string;
    before(async function () {
      const { services } = environment.get();
      if (!services.databaseUrl) {
        recordSkip('webhook delivery across node processes', 'PostgreSQL');
        this.skip();
      }
      databaseUrl = await createMigratedDatabase(services);
    });
    after(stopChildren);

    it('when the delivering node gets kill -9, then another node delivers every event: nothing lost, repeats only with the same webhook-id and body', async function () {
      this.timeout(90_000);
      const hook = await receiver();
      hook.mode = 'hang';
      const env = { ...FAST_WEBHOOKS, DATABASE_URL: databaseUrl, WEBHOOK_TIMEOUT_MS: '60000' };
      const a = await startNodeProcess('webhook-node-a', env);
      // The first user of a fresh database is its admin.
      const admin = await registerUser(a.url);
      await register(a.url, admin, hook.url, ['message.created']);
      const rooms: Room[] = await Promise.all([1, 2].map(() => createRoom(a.url, admin.accessToken)));
      const socket = await connect(a.url, { token: admin.accessToken });
      const acks = await Promise.all(rooms.flatMap((room) => Array.from({ length: 10 }, (_, i) => send(socket, room.id, `before the kill ${i}`))));
      await waitFor(() => hook.received.length >= 2, 10_000, 'node a to be mid-delivery');
      socket.disconnect();

      await a.child.stop('SIGKILL');
      hook.mode = 'ok';
      await startNodeProcess('webhook-node-b', env);

      const ids = new Set(acks.map((x) => x.message.id));
      const deliveredIds = () => new Set(hook.received.filter((r) => r.event.data).map((r) => (r.event.data as unknown as Message).id));
      await waitFor(() => deliveredIds().size >= ids.size, 30_000, 'every message delivered by node b');
      expect(deliveredIds()).to.deep.equal(ids);
      const bodyById = new Map<string, string>();
      const idByMessage = new Map<string, string>();
      for (const r of hook.received) {
        expect(bodyById.get(r.id) ?? r.body, 'a repeat carries the same body').to.equal(r.body);
        bodyById.set(r.id, r.body);
        const messageId = (r.event.data as unknown as Message).id;
        expect(idByMessage.get(messageId) ?? r.id, 'one webhook-id per message').to.equal(r.id);
        idByMessage.set(messageId, r.id);
      }
      expect(hook.received.length, 'the hung attempts were repeated').to.be.greaterThan(ids.size);
      for (const seqs of seqsByRoom(hook.distinct()).values()) expect(seqs).to.deep.equal(Array.from({ length: 10 }, (_, i) => i + 1));
    });
  });
});
