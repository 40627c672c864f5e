import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { HistoryPage, Message, Room } from '../server/protocol.js';
import { environment } from './support/environment.js';
import { connect, createRoom, http, ok, registerAdmin, registerUser, request, uniqueName, useNode, type HttpResult } from './support/util.js';

describe('/api/rooms', () => {
  const node = useNode({ MESSAGE_RATE_LIMIT: '0' });

  describe('POST /api/rooms', () => {
    it('when a member creates a public room, then it answers 201 with the room, joined, lastSeq 0', async () => {
      const alice = await registerUser(node.app);
      const name = uniqueName('room');
      const res = await http<{ room: Room }>(node.app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name } });
      expect(res.status).to.equal(201);
      expect(res.body.room).to.include({ name, visibility: 'public', readOnly: false, archived: false, lastSeq: 0, joined: true });
      expect(res.body.room.id).to.match(/^[0-9a-f-]{36}$/);
      expect(new Date(res.body.room.createdAt).toISOString()).to.equal(res.body.room.createdAt);
    });

    it('when a member asks for a read-only room, then it answers 403 forbidden; an admin may; a member may create a private room (issue 14)', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const privateRoom = await http(node.app, 'POST', '/api/rooms', { token: member.accessToken, body: { name: uniqueName('room'), visibility: 'private' } });
      expect(privateRoom.status).to.equal(201);
      expect(privateRoom.body.room).to.include({ visibility: 'private', joined: true });
      for (const body of [{ readOnly: true }]) {
        const res = await http(node.app, 'POST', '/api/rooms', { token: member.accessToken, body: { name: uniqueName('room'), ...body } });
        expect(res.status, JSON.stringify(body)).to.equal(403);
        expect(res.body.error.code).to.equal('forbidden');
        const asAdmin = await http(node.app, 'POST', '/api/rooms', { token: admin.accessToken, body: { name: uniqueName('room'), ...body } });
        expect(asAdmin.status).to.equal(201);
      }
    });

    it('when the name or flags are invalid, then it answers 400 validation_failed', async () => {
      const alice = await registerUser(node.app);
      for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(65) }, { name: 'ok', visibility: 'secret' }, { name: 'ok', readOnly: 'yes' }, { name: 42 }]) {
        const res = await http(node.app, 'POST', '/api/rooms', { token: alice.accessToken, body });
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
      }
    });

    it('when there is no token, then every room route answers 401 unauthorized', async () => {
      for (const [method, route] of [['GET', '/api/rooms'], ['POST', '/api/rooms'], ['GET', `/api/rooms/${randomUUID()}`], ['GET', `/api/rooms/${randomUUID()}/messages`]] as const) {
        const res = await http(node.app, method, route, { body: method === 'POST' ? { name: 'x' } : undefined });
        expect(res.status, route).to.equal(401);
        expect(res.body.error.code).to.equal('unauthorized');
      }
    });
  });

  describe('GET /api/rooms and GET /api/rooms/:id', () => {
    it('when a member lists rooms, then public rooms and their private rooms are there, other private rooms are not', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const open = await createRoom(node.app, admin.accessToken);
      const hidden = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      const mine = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      await environment.get().database.knex('room_members').insert({ room_id: mine.id, user_id: member.user.id });

      const res = await http<{ rooms: Room[] }>(node.app, 'GET', '/api/rooms', { token: member.accessToken });

      expect(res.status).to.equal(200);
      const ids = res.body.rooms.map((r) => r.id);
      expect(ids).to.include.members([open.id, mine.id]);
      expect(ids).to.not.include(hidden.id);
      expect(res.body.rooms.find((r) => r.id === open.id)!.joined).to.equal(false);
      expect(res.body.rooms.find((r) => r.id === mine.id)!.joined).to.equal(true);
      const asAdmin = await http<{ rooms: Room[] }>(node.app, 'GET', '/api/rooms', { token: admin.accessToken });
      expect(asAdmin.body.rooms.map((r) => r.id)).to.include.members([open.id, hidden.id, mine.id]);
    });

    it('when a room is private and the caller not a member, then GET, history and room:join all answer not_found', async () => {
      const admin = await registerAdmin(node.app);
      const outsider = await registerUser(node.app);
      const hidden = await createRoom(node.app, admin.accessToken, { visibility: 'private' });

      const get = await http(node.app, 'GET', `/api/rooms/${hidden.id}`, { token: outsider.accessToken });
      const history = await http(node.app, 'GET', `/api/rooms/${hidden.id}/messages`, { token: outsider.accessToken });
      const socket = await connect(node.app, { token: outsider.accessToken });
      const join = await request(socket, 'room:join', { roomId: hidden.id });
      const socketHistory = await request(socket, 'room:history', { roomId: hidden.id });
      const absent = await http(node.app, 'GET', `/api/rooms/${randomUUID()}`, { token: outsider.accessToken });

      for (const res of [get, history]) {
        expect(res.status).to.equal(404);
        expect(res.body.error.code).to.equal('not_found');
      }
      expect(!join.ok && join.error.code).to.equal('not_found');
      expect(!socketHistory.ok && socketHistory.error.code).to.equal('not_found');
      // Hidden and absent rooms answer alike.
      expect(get.body).to.deep.equal(absent.body);
    });

    it('when a member of a private room asks for it, then it answers 200 with joined true', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const room = await createRoom(node.app, admin.accessToken, { visibility: 'private' });
      await environment.get().database.knex('room_members').insert({ room_id: room.id, user_id: member.user.id });
      const res = await http<{ room: Room }>(node.app, 'GET', `/api/rooms/${room.id}`, { token: member.accessToken });
      expect(res.status).to.equal(200);
      expect(res.body.room).to.include({ id: room.id, visibility: 'private', joined: true });
    });

    it('when the id is not a UUID, then it answers 400 validation_failed', async () => {
      const alice = await registerUser(node.app);
      const res = await http(node.app, 'GET', '/api/rooms/not-a-uuid', { token: alice.accessToken });
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('validation_failed');
    });
  });

  describe('GET /api/rooms: pages and search', () => {
    type Page = { rooms: Room[]; nextCursor: string | null };

    it('when a member pages with limit 2 through rooms matching q, then each visible room comes once, newest first, and the last page has nextCursor null', async () => {
      const admin = await registerAdmin(node.app);
      const member = await registerUser(node.app);
      const tag = uniqueName('pg');
      const made: Room[] = [];
      for (let i = 0; i < 5; i++) made.push(await createRoom(node.app, admin.accessToken, { name: `${tag} ${i}` }));
      const hidden = await createRoom(node.app, admin.accessToken, { name: `${tag} hidden`, visibility: 'private' });

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?q=${encodeURIComponent(tag.toUpperCase())}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const res: HttpResult<Page> = await http<Page>(node.app, 'GET', `/api/rooms${query}`, { token: member.accessToken });
        expect(res.status).to.equal(200);
        expect(res.body.rooms.length).to.be.at.most(2);
        seen.push(...res.body.rooms.map((r) => r.id));
        cursor = res.body.nextCursor;
      } while (cursor && ++pages < 10);

      expect(seen).to.deep.equal(made.map((r) => r.id).reverse());
      expect(seen).to.not.include(hidden.id);
      const asAdmin = await http<Page>(node.app, 'GET', `/api/rooms?q=${encodeURIComponent(tag)}`, { token: admin.accessToken });
      expect(asAdmin.body.rooms.map((r) => r.id)).to.deep.equal([hidden.id, ...seen]);
      expect(asAdmin.body.nextCursor).to.equal(null);
    });

    it('when q holds LIKE wildcards, then they match literally', async () => {
      const alice = await registerUser(node.app);
      const tag = uniqueName('lk');
      const percent = await createRoom(node.app, alice.accessToken, { name: `${tag} 100%` });
      await createRoom(node.app, alice.accessToken, { name: `${tag} 1000` });
      const res = await http<Page>(node.app, 'GET', `/api/rooms?q=${encodeURIComponent(`${tag} 100%`)}`, { token: alice.accessToken });
      expect(res.body.rooms.map((r) => r.id)).to.deep.equal([percent.id]);
      const underscore = await http<Page>(node.app, 'GET', `/api/rooms?q=${encodeURIComponent(`${tag}_`)}`, { token: alice.accessToken });
      expect(underscore.body.rooms).to.have.length(0);
    });

    it('without a limit, then at most 100 rooms come, with a cursor to the rest', async () => {
      const alice = await registerUser(node.app);
      const tag = uniqueName('many');
      await environment.get().database.knex('rooms').insert(Array.from({ length: 101 }, (_, i) => ({ name: `${tag} ${i}`, visibility: 'public' })));
      const first = await http<Page>(node.app, 'GET', `/api/rooms?q=${tag}`, { token: alice.accessToken });
      expect(first.body.rooms).to.have.length(100);
      expect(first.body.nextCursor).to.be.a('string');
      const rest = await http<Page>(node.app, 'GET', `/api/rooms?q=${tag}&cursor=${first.body.nextCursor}`, { token: alice.accessToken });
      expect(rest.body.rooms).to.have.length(1);
      expect(rest.body.nextCursor).to.equal(null);
      expect(first.body.rooms.map((r) => r.id)).to.not.include(rest.body.rooms[0]!.id);
    });

    it('when limit, cursor or q is out of bounds, then it answers 400 validation_failed', async () => {
      const alice = await registerUser(node.app);
      for (const query of ['limit=0', 'limit=201', 'limit=x', 'cursor=abc', `q=${'x'.repeat(65)}`, 'q=%00']) {
        const res = await http(node.app, 'GET', `/api/rooms?${query}`, { token: alice.accessToken });
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code, query).to.equal('validation_failed');
      }
    });
  });

  describe('GET /api/rooms/:id/messages', () => {
    const TOTAL = 60;
    let token: string;
    let roomId: string;

    beforeEach(async () => {
      const alice = await registerUser(node.app);
      token = alice.accessToken;
      roomId = (await createRoom(node.app, token)).id;
      const socket = await connect(node.app, { token });
      await Promise.all(Array.from({ length: TOTAL }, (_, i) => ok(socket, 'message:send', { roomId, content: `m${i}`, clientMsgId: randomUUID() })));
    });

    const page = async (query: string) => {
      const res = await http<HistoryPage>(node.app, 'GET', `/api/rooms/${roomId}/messages${query}`, { token });
      expect(res.status, query).to.equal(200);
      return { seqs: res.body.messages.map((m: Message) => m.seq), hasMore: res.body.hasMore, messages: res.body.messages };
    };
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

    it('when neither afterSeq nor beforeSeq is given, then it answers the latest `limit` (default 50), oldest first', async () => {
      expect(await page('')).to.deep.include({ seqs: range(11, 60), hasMore: true });
      expect(await page('?limit=5')).to.deep.include({ seqs: range(56, 60), hasMore: true });
      expect(await page('?limit=200')).to.deep.include({ seqs: range(1, 60), hasMore: false });
    });

    it('when afterSeq=N, then it answers the messages after N, oldest first, with hasMore when more follow', async () => {
      expect(await page('?afterSeq=0&limit=10')).to.deep.include({ seqs: range(1, 10), hasMore: true });
      expect(await page('?afterSeq=50&limit=10')).to.deep.include({ seqs: range(51, 60), hasMore: false });
      expect(await page('?afterSeq=55')).to.deep.include({ seqs: range(56, 60), hasMore: false });
      expect(await page('?afterSeq=60')).to.deep.include({ seqs: [], hasMore: false });
    });

    it('when beforeSeq=N, then it answers the `limit` messages just before N, oldest first', async () => {
      expect(await page('?beforeSeq=21&limit=10')).to.deep.include({ seqs: range(11, 20), hasMore: true });
      expect(await page('?beforeSeq=11&limit=10')).to.deep.include({ seqs: range(1, 10), hasMore: false });
      expect(await page('?beforeSeq=4')).to.deep.include({ seqs: [1, 2, 3], hasMore: false });
      expect(await page('?beforeSeq=1')).to.deep.include({ seqs: [], hasMore: false });
    });

    it('when the messages come back, then they carry the Message shape with the author’s username', async () => {
      const { messages } = await page('?afterSeq=0&limit=1');
      // The contract's fields, then the additions: change (change log), mentions, replies and reactions (issue 14).
      expect(messages[0]).to.have.all.keys('id', 'roomId', 'seq', 'userId', 'username', 'content', 'clientMsgId', 'createdAt', 'editedAt', 'deleted', 'change', 'mentions', 'replyToSeq', 'replyCount', 'lastReplyAt', 'reactions');
      expect(messages[0]).to.deep.include({ roomId, seq: 1, editedAt: null, deleted: false, change: 1, mentions: [], replyToSeq: null, replyCount: 0, lastReplyAt: null, reactions: [] });
    });

    it('when both afterSeq and beforeSeq are given, or limit is outside 1-200, then it answers 400 validation_failed', async () => {
      for (const query of ['?afterSeq=1&beforeSeq=5', '?limit=0', '?limit=201', '?limit=abc', '?afterSeq=-1', '?beforeSeq=x', '?limit=2.5']) {
        const res = await http(node.app, 'GET', `/api/rooms/${roomId}/messages${query}`, { token });
        expect(res.status, query).to.equal(400);
        expect(res.body.error.code).to.equal('validation_failed');
      }
    });
  });
});
