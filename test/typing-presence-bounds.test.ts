// Typing and presence stay bounded (issue 16): a typing flood is dropped,
// typing ends by itself and on leave/disconnect (told on every node), a join
// into a big room answers a bounded list plus the count (the rest paged with
// room:online), and a big room's presence changes arrive coalesced.
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { JoinResult, OnlinePage, PresenceBatchEvent, PresenceEvent, Room, TypingEvent, TypingResult } from '../server/protocol.js';
import { closeClients, signedUpClient } from './support/sdk.js';
import { useRedisCluster } from './support/cluster.js';
import { collect, connect, createRoom, membersInRoom, nextEvent, ok, registerUser, request, sleep, useNode, waitFor, type ChatClient } from './support/util.js';

/**
 * Registers `count` users, each on `apps[i % apps.length]`, and joins each
 * one's socket to the room: one after another, or all at once (`together`).
 */
async function joinMany(apps: RoomcastApp[], room: Room, count: number, together = false): Promise<{ sockets: ChatClient[]; userIds: string[] }> {
  const sockets: ChatClient[] = [];
  const userIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const app = apps[i % apps.length]!;
    const user = await registerUser(app);
    const socket = await connect(app, { token: user.accessToken });
    if (!together) await ok(socket, 'room:join', { roomId: room.id });
    sockets.push(socket);
    userIds.push(user.user.id);
  }
  if (together) await Promise.all(sockets.map((socket) => ok(socket, 'room:join', { roomId: room.id })));
  return { sockets, userIds };
}

/** Every online userId, paging with room:online from the start (bounded: at most `maxPages` pages). */
async function pageAll(socket: ChatClient, roomId: string, limit: number, maxPages = 20): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 1; pages <= maxPages; pages++) {
    const page = await ok<OnlinePage>(socket, 'room:online', { roomId, limit, ...(cursor ? { cursor } : {}) });
    expect(page.online.length).to.be.at.most(limit);
    ids.push(...page.online.map((u) => u.userId));
    if (page.nextCursor === null) return { ids, pages };
    cursor = page.nextCursor;
  }
  throw new Error(`room:online did not end within ${maxPages} pages`);
}

describe('typing is rate-limited per socket per room', () => {
  const node = useNode({ TYPING_RATE_LIMIT: '3', TYPING_RATE_WINDOW: '60' });

  it('when a user floods typing, then only the limit reaches the room and every ack still answers ok (dropped: true for the rest)', async () => {
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const toBob = collect<TypingEvent>(bobSocket, 'typing');

    const acks: TypingResult[] = [];
    for (let i = 0; i < 30; i++) acks.push(await ok<TypingResult>(aliceSocket, 'typing', { roomId: room.id, typing: true }));
    await sleep(300);

    expect(acks.filter((a) => a.dropped === true)).to.have.length(27);
    expect(acks.slice(0, 3).every((a) => a.dropped === undefined)).to.equal(true);
    expect(toBob.filter((t) => t.typing)).to.have.length(3);
  });

  it('when a socket that is not typing says typing: false, then nothing is passed on', async () => {
    const { room, sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const toBob = collect<TypingEvent>(bobSocket, 'typing');

    expect(await request(aliceSocket, 'typing', { roomId: room.id, typing: false })).to.deep.equal({ ok: true, dropped: true });
    expect(await request(aliceSocket, 'typing', { roomId: room.id, typing: true })).to.deep.equal({ ok: true });
    expect(await request(aliceSocket, 'typing', { roomId: room.id, typing: false })).to.deep.equal({ ok: true });
    await sleep(200);

    expect(toBob.map((t) => t.typing)).to.deep.equal([true, false]);
  });
});

describe('typing ends by itself', () => {
  const node = useNode({ TYPING_TIMEOUT: '1' });

  it('when typing: true is not renewed, then the room gets typing: false after the timeout', async () => {
    const { room, users: [alice], sockets: [aliceSocket, bobSocket] } = await membersInRoom([node.app, node.app]);
    const started = nextEvent<TypingEvent>(bobSocket, 'typing');
    await ok(aliceSocket, 'typing', { roomId: room.id, typing: true });
    expect((await started).typing).to.equal(true);
    const at = Date.now();

    const ended = await nextEvent<TypingEvent>(bobSocket, 'typing', 4_000);

    expect(ended).to.deep.equal({ roomId: room.id, userId: alice.user.id, username: alice.user.username, typing: false });
    expect(Date.now() - at).to.be.within(500, 3_000);
  });
});

describe('typing and presence over two nodes', () => {
  const { node } = useRedisCluster('typing and presence bounds');
  afterEach(closeClients);

  for (const how of ['disconnects', 'leaves the room'] as const) {
    it(`when a typing user on node A ${how}, then a member on node B gets typing: false for them exactly once`, async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const { room, users: [alice], sockets: [aliceSocket, bobSocket] } = await membersInRoom([a, b]);
      const toBob = collect<TypingEvent>(bobSocket, 'typing');
      await ok(aliceSocket, 'typing', { roomId: room.id, typing: true });
      await waitFor(() => toBob.length === 1, 5_000, 'typing: true on node B');

      if (how === 'disconnects') aliceSocket.disconnect();
      else await ok(aliceSocket, 'room:leave', { roomId: room.id });

      await waitFor(() => toBob.length === 2, 5_000, 'typing: false on node B');
      await sleep(300);
      expect(toBob).to.deep.equal([
        { roomId: room.id, userId: alice.user.id, username: alice.user.username, typing: true },
        { roomId: room.id, userId: alice.user.id, username: alice.user.username, typing: false },
      ]);
    });
  }

  it('when a user joins a room with more online users than JOIN_ONLINE_LIST_LIMIT, then the ack lists that many plus the count, and room:online pages through the rest once each', async () => {
    const env = { JOIN_ONLINE_LIST_LIMIT: '2' };
    const [a, b] = await Promise.all([node('a', env), node('b', env)]);
    const owner = await registerUser(a);
    const room = await createRoom(a, owner.accessToken);
    const { userIds } = await joinMany([a, b], room, 5);
    const late = await registerUser(b);
    const lateSocket = await connect(b, { token: late.accessToken });

    const joined = await ok<JoinResult>(lateSocket, 'room:join', { roomId: room.id });

    const everyone = [...userIds, late.user.id].sort();
    expect(joined.onlineCount).to.equal(6);
    expect(joined.online.map((u) => u.userId)).to.deep.equal(everyone.slice(0, 2));
    const { ids, pages } = await pageAll(lateSocket, room.id, 2);
    expect(ids).to.deep.equal(everyone);
    expect(pages).to.equal(3);
    const rest = await ok<OnlinePage>(lateSocket, 'room:online', { roomId: room.id, cursor: joined.online[1]!.userId, limit: 10 });
    expect(rest.nextCursor).to.equal(null);
    expect(rest.online.map((u) => u.userId)).to.deep.equal(everyone.slice(2));
  });

  it('when a socket asks room:online for a room it has not joined, then it gets not_found', async () => {
    const a = await node('a');
    const user = await registerUser(a);
    const room = await createRoom(a, user.accessToken);
    const socket = await connect(a, { token: user.accessToken });

    const ack = await request(socket, 'room:online', { roomId: room.id });

    expect(!ack.ok && ack.error.code).to.equal('not_found');
  });

  it('when many join a room above PRESENCE_BATCH_THRESHOLD on two nodes, then members get presence:batch instead of one presence event each, and the SDK counts them', async function () {
    this.timeout(60_000); // ten users signing up on a shared machine
    const env = { PRESENCE_BATCH_THRESHOLD: '3', PRESENCE_BATCH_INTERVAL_MS: '1000' };
    const [a, b] = await Promise.all([node('a', env), node('b', env)]);
    const owner = await registerUser(a);
    const room = await createRoom(a, owner.accessToken);
    const watcher = await connect(a, { token: owner.accessToken });
    await ok(watcher, 'room:join', { roomId: room.id });
    const { client } = await signedUpClient(b);
    const sdkRoom = await client.join(room.id);
    const small = await joinMany([a, b], room, 2); // 4 online: joins from here on are above the threshold
    const singles = collect<PresenceEvent>(watcher, 'presence');
    const batches = collect<PresenceBatchEvent>(watcher, 'presence:batch');

    const crowd = await joinMany([a, b], room, 4, true);

    const joinedInBatches = () => batches.flatMap((e) => e.joined.map((u) => u.userId));
    await waitFor(() => crowd.userIds.every((id) => joinedInBatches().includes(id)), 5_000, 'the crowd in presence:batch');
    expect(singles.map((e) => e.userId)).to.not.include.any.members(crowd.userIds);
    // Joins at once on a node within one interval: one batch names several of them.
    expect(Math.max(...batches.map((e) => e.joined.length))).to.be.at.least(2);
    await waitFor(() => sdkRoom.onlineCount === 8, 5_000, 'the SDK count');
    expect(sdkRoom.online.map((u) => u.userId)).to.include.members(crowd.userIds);

    crowd.sockets[0]!.disconnect();
    await waitFor(() => batches.some((e) => e.left.some((u) => u.userId === crowd.userIds[0])), 5_000, 'the leave in presence:batch');
    await waitFor(() => sdkRoom.onlineCount === 7, 5_000, 'the SDK count after the leave');
    expect(small.userIds).to.have.length(2);
  });
});
