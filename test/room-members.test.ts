import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { ChangesPage, MemberEvent, MembersPage, Message, MessageResult } from '../server/protocol.js';
import { auditEntries } from './support/admin.js';
import { useRedisCluster } from './support/cluster.js';
import { closeClients, signedUpClient } from './support/sdk.js';
import { collect, connect, createRoom, http, ok, registerAdmin, registerUser, request, sleep, uniqueName, waitFor, type ChatClient } from './support/util.js';

const send = (socket: ChatClient, roomId: string, content: string) => ok<MessageResult>(socket, 'message:send', { roomId, content, clientMsgId: randomUUID() });
type App = Parameters<typeof http>[0];
const invite = (app: App, token: string, roomId: string, userId: string) => http(app, 'POST', `/api/rooms/${roomId}/members`, { token, body: { userId } });
const removeMember = (app: App, token: string, roomId: string, userId: string) => http(app, 'DELETE', `/api/rooms/${roomId}/members/${userId}`, { token });

describe('members of rooms', () => {
  const { node } = useRedisCluster('room members');

  it('a member creates a private room and, as its owner, invites; other members may not; an admin may; GET members pages them with online state', async () => {
    const a = await node('a');
    const admin = await registerAdmin(a);
    const [owner, bob, carol, dave] = await Promise.all([registerUser(a), registerUser(a), registerUser(a), registerUser(a)]);
    const room = await createRoom(a, owner.accessToken, { visibility: 'private' });

    expect((await invite(a, owner.accessToken, room.id, bob.user.id)).status).to.equal(204);
    expect((await invite(a, owner.accessToken, room.id, bob.user.id)).status).to.equal(204); // again: harmless
    expect((await invite(a, bob.accessToken, room.id, carol.user.id)).status).to.equal(403);
    expect((await invite(a, carol.accessToken, room.id, dave.user.id)).status).to.equal(404); // cannot see it
    expect((await invite(a, owner.accessToken, room.id, randomUUID())).status).to.equal(404);
    expect((await invite(a, admin.accessToken, room.id, carol.user.id)).status).to.equal(204);
    expect((await http(a, 'GET', `/api/rooms/${room.id}`, { token: carol.accessToken })).status).to.equal(200);

    const bobSocket = await connect(a, { token: bob.accessToken });
    await ok(bobSocket, 'room:join', { roomId: room.id });
    const first = await http<MembersPage>(a, 'GET', `/api/rooms/${room.id}/members?limit=2`, { token: carol.accessToken });
    const second = await http<MembersPage>(a, 'GET', `/api/rooms/${room.id}/members?limit=2&cursor=${first.body.nextCursor}`, { token: carol.accessToken });
    expect(first.status).to.equal(200);
    expect(second.body.nextCursor).to.equal(null);
    const all = [...first.body.members, ...second.body.members];
    expect(all.map((m) => m.userId)).to.deep.equal([owner.user.id, bob.user.id, carol.user.id].sort());
    expect(all.find((m) => m.userId === bob.user.id)).to.include({ online: true, owner: false, username: bob.user.username });
    expect(all.find((m) => m.userId === owner.user.id)).to.include({ online: false, owner: true });
    expect((await http(a, 'GET', `/api/rooms/${room.id}/members`, { token: dave.accessToken })).status).to.equal(404);

    const entries = await auditEntries(a, admin.accessToken, 'member_add');
    expect(entries.some((e) => e.actorId === owner.user.id && e.targetId === room.id)).to.equal(true);
  });

  it("when the owner removes a member, then the member's sockets on both nodes leave the room at once and hear nothing more of it", async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const [owner, bob] = await Promise.all([registerUser(a), registerUser(b)]);
    const room = await createRoom(a, owner.accessToken, { visibility: 'private' });
    await invite(a, owner.accessToken, room.id, bob.user.id);
    const ownerSocket = await connect(a, { token: owner.accessToken });
    const bobSockets = await Promise.all([connect(a, { token: bob.accessToken }), connect(b, { token: bob.accessToken })]);
    await ok(ownerSocket, 'room:join', { roomId: room.id });
    for (const socket of bobSockets) await ok(socket, 'room:join', { roomId: room.id });
    const bobHeard = bobSockets.map((socket) => collect<Message>(socket, 'message:new'));
    const ownerLeft = collect<MemberEvent>(ownerSocket, 'member:left');

    const res = await removeMember(a, owner.accessToken, room.id, bob.user.id);
    // At once: the first message after the removal's answer reaches neither of bob's sockets.
    await send(ownerSocket, room.id, 'after the removal');

    expect(res.status).to.equal(204);
    await waitFor(() => ownerLeft.length === 1, 3_000, 'member:left');
    expect(ownerLeft[0]).to.include({ roomId: room.id, userId: bob.user.id, username: bob.user.username });
    await sleep(300);
    expect(bobHeard.map((heard) => heard.length)).to.deep.equal([0, 0]);
    for (const socket of bobSockets) {
      const rejoin = await request(socket, 'room:join', { roomId: room.id });
      expect(!rejoin.ok && rejoin.error.code).to.equal('not_found');
    }
    expect((await removeMember(a, bob.accessToken, room.id, owner.user.id)).status).to.equal(404);
  });

  it('a member leaves: their sockets on both nodes leave a private room at once; leaving again is 404', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const [owner, bob] = await Promise.all([registerUser(a), registerUser(b)]);
    const room = await createRoom(a, owner.accessToken, { visibility: 'private' });
    await invite(a, owner.accessToken, room.id, bob.user.id);
    const ownerSocket = await connect(b, { token: owner.accessToken });
    const bobSockets = await Promise.all([connect(a, { token: bob.accessToken }), connect(b, { token: bob.accessToken })]);
    await ok(ownerSocket, 'room:join', { roomId: room.id });
    for (const socket of bobSockets) await ok(socket, 'room:join', { roomId: room.id });
    const bobHeard = bobSockets.map((socket) => collect<Message>(socket, 'message:new'));

    const res = await http(b, 'POST', `/api/rooms/${room.id}/leave`, { token: bob.accessToken });
    await send(ownerSocket, room.id, 'after the leave');

    expect(res.status).to.equal(204);
    await sleep(300);
    expect(bobHeard.map((heard) => heard.length)).to.deep.equal([0, 0]);
    expect((await http(a, 'POST', `/api/rooms/${room.id}/leave`, { token: bob.accessToken })).status).to.equal(404);
    const members = await http<MembersPage>(a, 'GET', `/api/rooms/${room.id}/members`, { token: owner.accessToken });
    expect(members.body.members.map((m) => m.userId)).to.deep.equal([owner.user.id]);
  });

  it('membership changes are numbered with the messages: live in change order on both nodes, and replayed by the changes page', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const [owner, watcher, ...guests] = await Promise.all([registerUser(a), registerUser(b), registerUser(a), registerUser(b), registerUser(a)]);
    const room = await createRoom(a, owner.accessToken, { visibility: 'private' });
    await invite(a, owner.accessToken, room.id, watcher.user.id);
    const ownerSocket = await connect(a, { token: owner.accessToken });
    const watcherSocket = await connect(b, { token: watcher.accessToken });
    await ok(ownerSocket, 'room:join', { roomId: room.id });
    const { lastChange: start } = await ok<{ lastChange: number }>(watcherSocket, 'room:join', { roomId: room.id });
    const live: number[] = [];
    for (const event of ['message:new', 'member:joined', 'member:left'] as const) {
      watcherSocket.on(event, (payload: { change: number }) => live.push(payload.change));
    }

    // Messages from one node, membership changes from both, at once.
    await Promise.all([
      (async () => {
        for (let i = 0; i < 6; i++) await send(ownerSocket, room.id, `m${i}`);
      })(),
      (async () => {
        for (const guest of guests) {
          await invite(a, owner.accessToken, room.id, guest.user.id);
          await removeMember(b, owner.accessToken, room.id, guest.user.id);
        }
      })(),
    ]);

    const expectedCount = 6 + guests.length * 2;
    await waitFor(() => live.length >= expectedCount, 5_000, 'every change live');
    expect(live).to.deep.equal(Array.from({ length: expectedCount }, (_, i) => start + i + 1));

    // Replay from the start, 4 entries a page: every number once, messages and members together.
    const seen: number[] = [];
    let kinds = { joined: 0, left: 0, messages: 0 };
    for (let after = 0, pages = 0; pages < 50; pages++) {
      const { body: page } = await http<ChangesPage>(b, 'GET', `/api/rooms/${room.id}/changes?after=${after}&limit=4`, { token: watcher.accessToken });
      const entries = [...page.changes.map((m) => m.change), ...(page.members ?? []).map((m) => m.change)].sort((x, y) => x - y);
      expect(entries.length).to.be.at.most(4);
      seen.push(...entries);
      kinds = {
        joined: kinds.joined + (page.members ?? []).filter((m) => m.kind === 'joined').length,
        left: kinds.left + (page.members ?? []).filter((m) => m.kind === 'left').length,
        messages: kinds.messages + page.changes.length,
      };
      if (!page.hasMore) {
        expect(page.lastChange).to.equal(start + expectedCount);
        break;
      }
      after = entries[entries.length - 1]!;
    }
    expect(seen).to.deep.equal(Array.from({ length: start + expectedCount }, (_, i) => i + 1));
    // The watcher's invite and the guests' comings and goings; the owner's creation is not a change.
    expect(kinds).to.deep.equal({ joined: 1 + guests.length, left: guests.length, messages: 6 });
  });

  it('spends MEMBERSHIP_RATE_LIMIT per user across nodes: past it, 429 with Retry-After', async () => {
    const [a, b] = await Promise.all([node('a', { MEMBERSHIP_RATE_LIMIT: '3', MEMBERSHIP_RATE_WINDOW: '60' }), node('b', { MEMBERSHIP_RATE_LIMIT: '3', MEMBERSHIP_RATE_WINDOW: '60' })]);
    const owner = await registerUser(a);
    const guests = await Promise.all([registerUser(a), registerUser(a), registerUser(a), registerUser(a)]);
    const room = await createRoom(a, owner.accessToken, { visibility: 'private' });

    const statuses = [];
    for (const [i, guest] of guests.entries()) statuses.push((await invite(i % 2 ? b : a, owner.accessToken, room.id, guest.user.id)).status);

    expect(statuses).to.deep.equal([204, 204, 204, 429]);
  });
});

describe('members of rooms through the SDK', () => {
  const { node } = useRedisCluster('room members (SDK)');
  afterEach(closeClients);

  it('rooms.invite / remove / members / leave work, and a joined room hands out memberJoined / memberLeft in change order with its messages, live and replayed by a join from change 0', async () => {
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const { client: owner } = await signedUpClient(a);
    const { client: watcher } = await signedUpClient(b);
    const guests = await Promise.all([registerUser(a), registerUser(b)]);
    const created = await owner.rooms.create({ name: uniqueName('room'), visibility: 'private' });
    const watcherId = (await watcher.me()).id;
    await owner.rooms.invite(created.id, watcherId);
    const out = await owner.join(created.id);
    const inbox = await watcher.join(created.id);
    const live: string[] = [];
    inbox.on('message', (m) => live.push(`m${m.change}`));
    inbox.on('memberJoined', (m) => live.push(`j${m.change}`));
    inbox.on('memberLeft', (m) => live.push(`l${m.change}`));
    const start = inbox.lastChange!;

    for (const guest of guests) {
      await out.send(`hello before ${guest.user.username}`);
      await owner.rooms.invite(created.id, guest.user.id);
      await owner.rooms.remove(created.id, guest.user.id);
    }

    const total = guests.length * 3;
    await waitFor(() => live.length >= total, 5_000, 'every change through the SDK');
    expect(live.map((entry) => Number(entry.slice(1)))).to.deep.equal(Array.from({ length: total }, (_, i) => start + i + 1));
    expect(live.map((entry) => entry[0])).to.deep.equal(guests.flatMap(() => ['m', 'j', 'l']));
    const { members } = await watcher.rooms.members(created.id);
    expect(members).to.have.length(2);

    // A second device of the watcher catching up from change 0 replays the same changes, membership included.
    const { client: again } = await signedUpClient(b);
    await owner.rooms.invite(created.id, (await again.me()).id);
    const replayed: string[] = [];
    const second = await again.join(created.id, { afterSeq: 0, afterChange: 0 });
    second.on('message', (m) => replayed.push(`m${m.change}`));
    second.on('memberJoined', (m) => replayed.push(`j${m.change}`));
    second.on('memberLeft', (m) => replayed.push(`l${m.change}`));
    // Changes 1..start (the watcher's invite), the ones above, then this device's own invite.
    await waitFor(() => replayed.length >= start + total + 1, 5_000, 'the replay');
    expect(replayed.slice(start, start + total)).to.deep.equal(live.slice(0, total));
    expect(replayed[start + total]).to.equal(`j${start + total + 1}`);

    await watcher.rooms.leave(created.id);
    expect(inbox.active).to.equal(false);
    expect((await owner.rooms.members(created.id)).members.map((m) => m.userId)).to.not.include(watcherId);
  });
});
