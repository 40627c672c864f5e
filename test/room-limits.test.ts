// Bounded rooms and history (issue 20): room creation and history reads per
// user, on one node and shared by two nodes through Redis.
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import { useRedisCluster } from './support/cluster.js';
import { environment } from './support/environment.js';
import { closeAll, connect, createRoom, http, ok, registerUser, request, startNode, uniqueName, type HttpResult } from './support/util.js';

const createBody = () => ({ body: { name: uniqueName('room') } });

function expectRateLimited(res: HttpResult<{ error?: { code: string } }>, what: string): void {
  expect(res.status, what).to.equal(429);
  expect(res.body.error?.code, what).to.equal('rate_limited');
  expect(Number(res.headers.get('retry-after')), what).to.be.greaterThan(0);
}

describe('room creation and history: rate limits per user', () => {
  afterEach(closeAll);

  describe('room creation (ROOM_CREATE_RATE_LIMIT)', () => {
    it('when a member sends 20 creations at once with a limit of 3, then exactly 3 rooms exist and the rest answer 429 with Retry-After', async () => {
      const app = await startNode({ ROOM_CREATE_RATE_LIMIT: '3', ROOM_CREATE_RATE_WINDOW: '60' });
      const alice = await registerUser(app);
      const bob = await registerUser(app);

      const answers = await Promise.all(Array.from({ length: 20 }, () => http(app, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })));

      expect(answers.filter((a) => a.status === 201)).to.have.length(3);
      for (const refused of answers.filter((a) => a.status !== 201)) expectRateLimited(refused, 'creation past the limit');
      const [row] = await environment.get().database.knex('rooms').where({ created_by: alice.user.id }).count<{ count: string }[]>('* as count');
      expect(Number(row?.count), 'rooms stored').to.equal(3);
      // Another user's budget is their own.
      expect((await http(app, 'POST', '/api/rooms', { token: bob.accessToken, ...createBody() })).status).to.equal(201);
    });

    it('when the limit is 0, then it is off', async () => {
      const app = await startNode({ ROOM_CREATE_RATE_LIMIT: '0' });
      const alice = await registerUser(app);
      const answers = await Promise.all(Array.from({ length: 15 }, () => http(app, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })));
      expect(answers.map((a) => a.status)).to.deep.equal(Array(15).fill(201));
    });

    it('with the default settings, then the 11th room within a minute is refused', async () => {
      // The test nodes raise the limit (test/support/test-limits.ts); '' restores the default.
      const app = await startNode({ ROOM_CREATE_RATE_LIMIT: '', ROOM_CREATE_RATE_WINDOW: '' });
      const alice = await registerUser(app);
      for (let i = 0; i < 10; i++) expect((await http(app, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })).status).to.equal(201);
      expectRateLimited(await http(app, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() }), '11th room');
    });

    it('when a refused request is not allowed anyway (a member asking for a read-only room), then it spends nothing', async () => {
      const app = await startNode({ ROOM_CREATE_RATE_LIMIT: '1' });
      const alice = await registerUser(app);
      expect((await http(app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name: 'x', readOnly: true } })).status).to.equal(403);
      expect((await http(app, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })).status).to.equal(201);
    });
  });

  describe('history (HISTORY_RATE_LIMIT)', () => {
    it('when a user reads history over REST and room:history, then both spend one budget, and others are unaffected', async () => {
      const app = await startNode({ HISTORY_RATE_LIMIT: '5', HISTORY_RATE_WINDOW: '60' });
      const alice = await registerUser(app);
      const bob = await registerUser(app);
      const room = await createRoom(app, alice.accessToken);
      const socket = await connect(app, { token: alice.accessToken });
      const rest = () => http(app, 'GET', `/api/rooms/${room.id}/messages?limit=200`, { token: alice.accessToken });

      for (let i = 0; i < 3; i++) expect((await rest()).status).to.equal(200);
      await ok(socket, 'room:history', { roomId: room.id, limit: 200 });
      await ok(socket, 'room:history', { roomId: room.id, afterSeq: 0 });

      const refusedAck = await request(socket, 'room:history', { roomId: room.id });
      expect(refusedAck.ok).to.equal(false);
      if (!refusedAck.ok) expect(refusedAck.error.code).to.equal('rate_limited');
      expectRateLimited(await rest(), 'REST past the shared budget');
      expect(socket.connected, 'a refused read keeps the socket').to.equal(true);
      expect((await http(app, 'GET', `/api/rooms/${room.id}/messages`, { token: bob.accessToken })).status).to.equal(200);
    });

    it('when 50 reads arrive at once with a limit of 10, then exactly 10 are answered', async () => {
      const app = await startNode({ HISTORY_RATE_LIMIT: '10', HISTORY_RATE_WINDOW: '60' });
      const alice = await registerUser(app);
      const room = await createRoom(app, alice.accessToken);
      const answers = await Promise.all(Array.from({ length: 50 }, () => http(app, 'GET', `/api/rooms/${room.id}/messages`, { token: alice.accessToken })));
      expect(answers.filter((a) => a.status === 200)).to.have.length(10);
      for (const refused of answers.filter((a) => a.status !== 200)) expectRateLimited(refused, 'read past the limit');
    });

    it('when the limit is 0, then it is off', async () => {
      const app = await startNode({ HISTORY_RATE_LIMIT: '0' });
      const alice = await registerUser(app);
      const room = await createRoom(app, alice.accessToken);
      const answers = await Promise.all(Array.from({ length: 130 }, () => http(app, 'GET', `/api/rooms/${room.id}/messages`, { token: alice.accessToken })));
      expect(answers.filter((a) => a.status !== 200)).to.have.length(0);
    });

    it('with the default settings, then a socket in 100 rooms can catch up every one of them at once', async () => {
      const app = await startNode({});
      const alice = await registerUser(app);
      const rooms = await Promise.all(Array.from({ length: 100 }, () => createRoom(app, alice.accessToken)));
      const socket = await connect(app, { token: alice.accessToken });
      const acks = await Promise.all(rooms.map((room) => request(socket, 'room:history', { roomId: room.id, afterSeq: 0, limit: 200 })));
      expect(acks.filter((a) => !a.ok)).to.have.length(0);
    });
  });

  describe('across a cluster (two nodes over Redis)', () => {
    const cluster = useRedisCluster('room and history limits across nodes');
    let a: RoomcastApp;
    let b: RoomcastApp;
    beforeEach(async () => {
      const limits = { ROOM_CREATE_RATE_LIMIT: '4', ROOM_CREATE_RATE_WINDOW: '60', HISTORY_RATE_LIMIT: '6', HISTORY_RATE_WINDOW: '60' };
      a = await cluster.node('limit-a', limits);
      b = await cluster.node('limit-b', limits);
    });

    it('when a user creates rooms on both nodes, then the two share one budget', async () => {
      const alice = await registerUser(a);
      const onA = await Promise.all(Array.from({ length: 4 }, () => http(a, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })));
      const onB = await Promise.all(Array.from({ length: 4 }, () => http(b, 'POST', '/api/rooms', { token: alice.accessToken, ...createBody() })));
      expect([...onA, ...onB].filter((r) => r.status === 201)).to.have.length(4);
      for (const refused of onB) expectRateLimited(refused, 'creation on the second node');
    });

    it('when a user reads history on both nodes, then the two share one budget', async () => {
      const alice = await registerUser(a);
      const room = await createRoom(a, alice.accessToken);
      const socketB = await connect(b, { token: alice.accessToken });
      for (let i = 0; i < 6; i++) expect((await http(a, 'GET', `/api/rooms/${room.id}/messages`, { token: alice.accessToken })).status).to.equal(200);
      const ack = await request(socketB, 'room:history', { roomId: room.id });
      expect(ack.ok ? 'answered' : ack.error.code).to.equal('rate_limited');
    });
  });
});
