// The before-publish hook against a real HTTP hook server: every send
// (socket and server API) is asked about before the group commit; the app
// accepts, rejects (the sender gets `rejected` with its reason) or replaces
// the content; a failed call lets the message through (open) or refuses it
// (closed); calls run in parallel; requests are signed (Standard Webhooks).
// Edits of a message's content (message:edit) are judged the same way, before
// their transaction (no lock held while the app answers).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { RoomcastApp } from '../server/app.js';
import { ConfigError, loadConfig } from '../server/config.js';
import type { CreatedApiKey, HistoryPage, Message, MessageResult } from '../server/protocol.js';
import { generateSecret } from '../server/webhooks/webhook-signing.js';
import { listenOnLoopback } from './support/free-port.js';
import { environment } from './support/environment.js';
import { closeAll, connect, createRoom, http, issuedSecrets, ok, registerAdmin, registerUser, request, startNode, waitFor, type ChatClient } from './support/util.js';

interface HookRequest {
  headers: Record<string, string>;
  body: string;
  event: { type: string; timestamp: string; data: { kind: 'send' | 'edit'; roomId: string; userId: string; username: string; content: string; clientMsgId?: string; messageId?: string; seq?: number; via: string } };
}
type Answer = (req: HookRequest, res: ServerResponse) => void | Promise<void>;

/** The app's hook: records every call, answers with `answer`, counts calls in flight. */
class HookServer {
  readonly requests: HookRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  answer: Answer = (_req, res) => json(res, 200, { action: 'accept' });
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private readonly open = new Set<ServerResponse>();
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}/hooks/before-publish`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.open.add(res);
    res.on('close', () => {
      this.inFlight--;
      this.open.delete(res);
    });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const call: HookRequest = { headers: req.headers as Record<string, string>, body, event: JSON.parse(body) };
    this.requests.push(call);
    await this.answer(call, res);
  }
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

const hooks: HookServer[] = [];
async function hookServer(): Promise<HookServer> {
  const hook = await new HookServer().start();
  hooks.push(hook);
  return hook;
}

/** A node whose hook is `hook`, reachable on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true unless overridden). */
async function nodeWithHook(hook: HookServer, env: Record<string, string> = {}): Promise<{ app: RoomcastApp; secret: string }> {
  const secret = generateSecret();
  issuedSecrets.add(secret);
  const app = await startNode({
    BEFORE_PUBLISH_URL: hook.url,
    BEFORE_PUBLISH_SECRET: secret,
    BEFORE_PUBLISH_TIMEOUT_MS: '1000',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...env,
  });
  return { app, secret };
}

/** An admin, a room and the admin's socket in it. */
async function sender(app: RoomcastApp): Promise<{ token: string; roomId: string; socket: ChatClient }> {
  const admin = await registerAdmin(app);
  const room = await createRoom(app, admin.accessToken);
  const socket = await connect(app, { token: admin.accessToken });
  await ok(socket, 'room:join', { roomId: room.id });
  return { token: admin.accessToken, roomId: room.id, socket };
}

const send = (socket: ChatClient, roomId: string, content: string) => request<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });
const edit = (socket: ChatClient, messageId: string, content: string) => request<MessageResult>(socket, 'message:edit', { messageId, content });
/** A hook answer for sends only: accepts them, and lets `onEdit` answer the edits. */
const editsBy = (onEdit: Answer): Answer => (req, res) => (req.event.data.kind === 'edit' ? onEdit(req, res) : json(res, 200, { action: 'accept' }));

async function storedContents(app: RoomcastApp, token: string, roomId: string): Promise<string[]> {
  const res = await http<HistoryPage>(app, 'GET', `/api/rooms/${roomId}/messages`, { token });
  return res.body.messages.map((m: Message) => m.content);
}

async function metricsText(app: RoomcastApp): Promise<string> {
  const res = await http<string>(app, 'GET', '/metrics');
  return res.body;
}

describe('before-publish hook (BEFORE_PUBLISH_URL)', () => {
  afterEach(async () => {
    await closeAll();
    await Promise.all(hooks.splice(0).map((h) => h.stop()));
  });

  it('when the hook accepts, then the message is stored as sent, and the hook got a signed call describing the send', async () => {
    const hook = await hookServer();
    const { app, secret } = await nodeWithHook(hook);
    const { roomId, socket } = await sender(app);

    const ack = await send(socket, roomId, 'hello hook');

    expect(ack.ok).to.equal(true);
    if (!ack.ok) return;
    expect(ack.message.content).to.equal('hello hook');
    expect(hook.requests).to.have.length(1);
    const [call] = hook.requests;
    expect(call!.event.type).to.equal('message.before_publish');
    expect(call!.event.data).to.include({ kind: 'send', roomId, content: 'hello hook', userId: ack.message.userId, clientMsgId: ack.message.clientMsgId, via: 'socket' });
    // Verifies with the Standard Webhooks reference library, as the app would.
    expect(() => new Webhook(secret).verify(call!.body, call!.headers)).not.to.throw();
    expect(() => new Webhook(generateSecret()).verify(call!.body, call!.headers)).to.throw();
    expect(await metricsText(app)).to.match(/roomcast_before_publish_seconds_count\{[^}]*outcome="accept"[^}]*\} 1/);
  });

  it('when the hook rejects, then the socket sender gets `rejected` with the app\'s reason and nothing is stored', async () => {
    const hook = await hookServer();
    hook.answer = (_req, res) => json(res, 200, { action: 'reject', reason: 'links are not allowed here' });
    const { app } = await nodeWithHook(hook);
    const { token, roomId, socket } = await sender(app);

    const ack = await send(socket, roomId, 'buy at http://spam.example');

    expect(ack.ok).to.equal(false);
    if (ack.ok) return;
    expect(ack.error.code).to.equal('rejected');
    expect(ack.error.details).to.deep.equal({ reason: 'links are not allowed here' });
    expect(await storedContents(app, token, roomId)).to.deep.equal([]);
    expect(await metricsText(app)).to.match(/roomcast_before_publish_seconds_count\{[^}]*outcome="reject"[^}]*\} 1/);
  });

  it('when the hook rejects a server API publish, then it answers 422 rejected (the same rule on the REST path)', async () => {
    const hook = await hookServer();
    hook.answer = (_req, res) => json(res, 200, { action: 'reject' });
    const { app } = await nodeWithHook(hook);
    const { token, roomId } = await sender(app);
    const created = await http<CreatedApiKey>(app, 'POST', '/api/admin/api-keys', { token, body: { name: `k-${randomUUID().slice(0, 8)}`, scopes: ['publish'] } });
    issuedSecrets.add(created.body.key);

    const res = await http<{ error: { code: string; details?: unknown } }>(app, 'POST', `/api/server/rooms/${roomId}/messages`, {
      token: created.body.key,
      body: { content: 'from the backend', clientMsgId: randomUUID() },
    });

    expect(res.status).to.equal(422);
    expect(res.body.error.code).to.equal('rejected');
    expect(res.body.error).not.to.have.property('details');
    expect(hook.requests[0]!.event.data).to.include({ via: 'server_api', content: 'from the backend' });
    expect(await storedContents(app, token, roomId)).to.deep.equal([]);
  });

  it('when the hook replaces the content, then the ack, the room and the history carry the replacement', async () => {
    const hook = await hookServer();
    hook.answer = (req, res) => json(res, 200, { action: 'replace', content: req.event.data.content.replace('darn', '****') });
    const { app } = await nodeWithHook(hook);
    const { token, roomId, socket } = await sender(app);
    const other = await connect(app, { token });
    await ok(other, 'room:join', { roomId });
    const heard = new Promise<Message>((resolve) => other.once('message:new', resolve));

    const ack = await send(socket, roomId, 'oh darn it');

    expect(ack.ok && ack.message.content).to.equal('oh **** it');
    expect((await heard).content).to.equal('oh **** it');
    expect(await storedContents(app, token, roomId)).to.deep.equal(['oh **** it']);
  });

  it('when the hook replaces the content with an invalid one (empty), then that is a failed call: closed refuses with unavailable', async () => {
    const hook = await hookServer();
    hook.answer = (_req, res) => json(res, 200, { action: 'replace', content: '' });
    const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: 'closed' });
    const { token, roomId, socket } = await sender(app);

    const ack = await send(socket, roomId, 'something');

    expect(!ack.ok && ack.error.code).to.equal('unavailable');
    expect(await storedContents(app, token, roomId)).to.deep.equal([]);
  });

  it('when a message is edited, then the hook judges the new content: accept stores it, reject refuses with `rejected` and the reason (the message keeps its content), replace stores the replacement; an edit the rules refuse never reaches the hook', async () => {
    const hook = await hookServer();
    hook.answer = editsBy((req, res) => {
      const { content } = req.event.data;
      if (content.includes('spam')) return json(res, 200, { action: 'reject', reason: 'no spam in edits' });
      if (content.includes('darn')) return json(res, 200, { action: 'replace', content: content.replace('darn', '****') });
      return json(res, 200, { action: 'accept' });
    });
    const { app, secret } = await nodeWithHook(hook);
    const { token, roomId, socket } = await sender(app);
    const other = await connect(app, { token });
    await ok(other, 'room:join', { roomId });
    const sent = await send(socket, roomId, 'first version');
    if (!sent.ok) throw new Error('the send failed');
    const { message } = sent;

    const accepted = await edit(socket, message.id, 'second version');
    expect(accepted.ok && accepted.message.content).to.equal('second version');
    const editCall = hook.requests.find((r) => r.event.data.kind === 'edit')!;
    expect(editCall.event.type).to.equal('message.before_publish');
    expect(editCall.event.data).to.deep.equal({ kind: 'edit', roomId, messageId: message.id, seq: message.seq, userId: message.userId, username: message.username, content: 'second version', via: 'socket' });
    expect(() => new Webhook(secret).verify(editCall.body, editCall.headers)).not.to.throw();

    const rejected = await edit(socket, message.id, 'now with spam');
    expect(!rejected.ok && rejected.error.code).to.equal('rejected');
    expect(!rejected.ok && rejected.error.details).to.deep.equal({ reason: 'no spam in edits' });
    expect(await storedContents(app, token, roomId)).to.deep.equal(['second version']);

    const heard = new Promise<Message>((resolve) => other.once('message:updated', resolve));
    const replaced = await edit(socket, message.id, 'oh darn');
    expect(replaced.ok && replaced.message.content).to.equal('oh ****');
    expect((await heard).content).to.equal('oh ****');
    expect(await storedContents(app, token, roomId)).to.deep.equal(['oh ****']);

    // Another member may not edit the message: refused by the rules, before anyone asks the app.
    const member = await registerUser(app);
    const memberSocket = await connect(app, { token: member.accessToken });
    await ok(memberSocket, 'room:join', { roomId });
    const calls = hook.requests.length;
    const notAuthor = await edit(memberSocket, message.id, 'not mine');
    expect(!notAuthor.ok && notAuthor.error.code).to.equal('forbidden');
    expect(hook.requests).to.have.length(calls);
    expect(await metricsText(app)).to.match(/roomcast_before_publish_seconds_count\{[^}]*outcome="reject"[^}]*\} 1/);
  });

  it('when edits arrive at once, then the hook sees them all in flight together, and while it holds them no edit holds a lock on its message (no transaction is open)', async function () {
    this.timeout(15_000);
    const N = 6;
    const hook = await hookServer();
    const held: ServerResponse[] = [];
    let unlocked: boolean | null = null;
    const knex = environment.get().database.knex;
    const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_TIMEOUT_MS: '3000', BEFORE_PUBLISH_FAIL: 'closed', MESSAGE_RATE_LIMIT: '0', EDIT_RATE_LIMIT: '0' });
    const { token, roomId, socket } = await sender(app);
    const sent = await Promise.all(Array.from({ length: N }, (_, i) => send(socket, roomId, `v1 ${i}`)));
    const ids = sent.map((a) => (a.ok ? a.message.id : ''));
    // Holds every edit call until all N are in flight; then takes each message's row lock, NOWAIT (an open edit transaction would hold it), and answers.
    hook.answer = editsBy(async (_req, res) => {
      held.push(res);
      if (held.length !== N) return;
      try {
        // Fails at once (55P03) on a row an open transaction locked; all N rows must be there and lockable.
        const locked = await knex.transaction(async (trx) => (await trx.raw('select id from messages where id::text = any(?::text[]) for update nowait', [ids])) as { rows: unknown[] });
        unlocked = locked.rows.length === N;
      } catch {
        unlocked = false;
      }
      for (const r of held) json(r, 200, { action: 'accept' });
    });

    const acks = await Promise.all(ids.map((id, i) => edit(socket, id, `v2 ${i}`)));

    expect(hook.maxInFlight).to.equal(N);
    expect(unlocked, 'the messages were free to lock while the hook held the edits').to.equal(true);
    expect(acks.every((a) => a.ok)).to.equal(true);
    expect((await storedContents(app, token, roomId)).sort()).to.deep.equal(Array.from({ length: N }, (_, i) => `v2 ${i}`).sort());
    await waitFor(() => hook.inFlight === 0, 2_000, 'hook calls finished');
  });

  for (const failMode of ['open', 'closed'] as const) {
    describe(`BEFORE_PUBLISH_FAIL=${failMode}`, () => {
      const expectOutcome = async (app: RoomcastApp, token: string, roomId: string, ack: Awaited<ReturnType<typeof send>>, content: string) => {
        if (failMode === 'open') {
          expect(ack.ok, 'stored as sent').to.equal(true);
          expect(await storedContents(app, token, roomId)).to.deep.equal([content]);
        } else {
          expect(!ack.ok && ack.error.code).to.equal('unavailable');
          expect(await storedContents(app, token, roomId)).to.deep.equal([]);
        }
        expect(await metricsText(app)).to.match(/roomcast_before_publish_seconds_count\{[^}]*outcome="failed"[^}]*\} 1/);
      };

      it(`when the hook does not answer within BEFORE_PUBLISH_TIMEOUT_MS, then the send is ${failMode === 'open' ? 'stored' : 'refused (unavailable)'}`, async () => {
        const hook = await hookServer();
        hook.answer = () => undefined; // never answers; stop() ends it
        const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: failMode, BEFORE_PUBLISH_TIMEOUT_MS: '200' });
        const { token, roomId, socket } = await sender(app);

        const ack = await send(socket, roomId, 'slow hook');

        expect(hook.requests).to.have.length(1);
        await expectOutcome(app, token, roomId, ack, 'slow hook');
      });

      it(`when the hook answers 500 to an edit, then the edit is ${failMode === 'open' ? 'stored' : 'refused (unavailable) and the message keeps its content'}`, async () => {
        const hook = await hookServer();
        hook.answer = editsBy((_req, res) => json(res, 500, { oops: true }));
        const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: failMode });
        const { token, roomId, socket } = await sender(app);
        const sent = await send(socket, roomId, 'before');
        if (!sent.ok) throw new Error('the send failed');

        const ack = await edit(socket, sent.message.id, 'after');

        if (failMode === 'open') expect(ack.ok && ack.message.content).to.equal('after');
        else expect(!ack.ok && ack.error.code).to.equal('unavailable');
        expect(await storedContents(app, token, roomId)).to.deep.equal([failMode === 'open' ? 'after' : 'before']);
        expect(await metricsText(app)).to.match(/roomcast_before_publish_seconds_count\{[^}]*outcome="failed"[^}]*\} 1/);
      });

      it(`when the hook does not answer an edit within BEFORE_PUBLISH_TIMEOUT_MS, then the edit is ${failMode === 'open' ? 'stored' : 'refused (unavailable)'}`, async () => {
        const hook = await hookServer();
        hook.answer = editsBy(() => undefined); // never answers edits; stop() ends them
        const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: failMode, BEFORE_PUBLISH_TIMEOUT_MS: '200' });
        const { token, roomId, socket } = await sender(app);
        const sent = await send(socket, roomId, 'before');
        if (!sent.ok) throw new Error('the send failed');

        const ack = await edit(socket, sent.message.id, 'after');

        if (failMode === 'open') expect(ack.ok && ack.message.content).to.equal('after');
        else expect(!ack.ok && ack.error.code).to.equal('unavailable');
        expect(await storedContents(app, token, roomId)).to.deep.equal([failMode === 'open' ? 'after' : 'before']);
      });

      it(`when the hook answers 500, then the send is ${failMode === 'open' ? 'stored' : 'refused (unavailable)'}`, async () => {
        const hook = await hookServer();
        hook.answer = (_req, res) => json(res, 500, { oops: true });
        const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: failMode });
        const { token, roomId, socket } = await sender(app);

        await expectOutcome(app, token, roomId, await send(socket, roomId, 'broken hook'), 'broken hook');
      });

      it(`when the hook is on a private address and WEBHOOK_ALLOW_PRIVATE_NETWORKS is off, then it is never called and the send is ${failMode === 'open' ? 'stored' : 'refused'}`, async () => {
        const hook = await hookServer();
        const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_FAIL: failMode, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
        const { token, roomId, socket } = await sender(app);

        const ack = await send(socket, roomId, 'to loopback');

        expect(hook.requests).to.have.length(0);
        await expectOutcome(app, token, roomId, ack, 'to loopback');
      });
    });
  }

  it('when the hook\'s name resolves to loopback (localhost) and private networks are not allowed, then it is never called (the address is checked after resolution)', async () => {
    const hook = await hookServer();
    const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_URL: hook.url.replace('127.0.0.1', 'localhost'), WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    const { token, roomId, socket } = await sender(app);

    const ack = await send(socket, roomId, 'via a name');

    expect(!ack.ok && ack.error.code).to.equal('unavailable');
    expect(hook.requests).to.have.length(0);
    expect(await storedContents(app, token, roomId)).to.deep.equal([]);
  });

  it('when a batch of sends arrives at once, then the hook sees them all in flight together (calls are parallel, not one after another)', async function () {
    this.timeout(15_000);
    const N = 12;
    const hook = await hookServer();
    const held: ServerResponse[] = [];
    // Holds every call until all N are in flight (a serialising node would never get there: its first call would time out).
    hook.answer = (_req, res) => {
      held.push(res);
      if (held.length === N) for (const r of held) json(r, 200, { action: 'accept' });
    };
    const { app } = await nodeWithHook(hook, { BEFORE_PUBLISH_TIMEOUT_MS: '3000', BEFORE_PUBLISH_FAIL: 'closed', MESSAGE_RATE_LIMIT: '0' });
    const { token, roomId, socket } = await sender(app);

    const acks = await Promise.all(Array.from({ length: N }, (_, i) => send(socket, roomId, `parallel ${i}`)));

    expect(hook.maxInFlight).to.equal(N);
    expect(acks.every((a) => a.ok)).to.equal(true);
    expect((await storedContents(app, token, roomId)).sort()).to.deep.equal(Array.from({ length: N }, (_, i) => `parallel ${i}`).sort());
    await waitFor(() => hook.inFlight === 0, 2_000, 'hook calls finished');
  });

  it('when no BEFORE_PUBLISH_URL is set, then sends go straight to the group commit (no hook call is measured)', async () => {
    const app = await startNode({});
    const { roomId, socket } = await sender(app);

    const ack = await send(socket, roomId, 'no hook');

    expect(ack.ok).to.equal(true);
    expect(await metricsText(app)).not.to.match(/roomcast_before_publish_seconds_count\{/);
  });

  describe('configuration', () => {
    it('refuses BEFORE_PUBLISH_URL without a BEFORE_PUBLISH_SECRET, a secret not in the whsec_ form and a non-http(s) URL', () => {
      const base = { NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'memory' };
      expect(() => loadConfig({ ...base, BEFORE_PUBLISH_URL: 'https://app.example/hook' })).to.throw(ConfigError, /BEFORE_PUBLISH_SECRET/);
      expect(() => loadConfig({ ...base, BEFORE_PUBLISH_URL: 'https://app.example/hook', BEFORE_PUBLISH_SECRET: 'plain' })).to.throw(ConfigError, /BEFORE_PUBLISH_SECRET/);
      expect(() => loadConfig({ ...base, BEFORE_PUBLISH_URL: 'ftp://app.example/hook', BEFORE_PUBLISH_SECRET: generateSecret() })).to.throw(ConfigError, /BEFORE_PUBLISH_URL/);
      const config = loadConfig({ ...base, BEFORE_PUBLISH_URL: 'https://app.example/hook', BEFORE_PUBLISH_SECRET: generateSecret() });
      expect(config.beforePublish).to.include({ url: 'https://app.example/hook', timeoutMs: 500, failMode: 'closed', allowPrivateNetworks: false });
      expect(loadConfig(base).beforePublish).to.equal(null);
    });
  });
});
