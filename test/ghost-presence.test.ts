// A socket that disconnects while its room:join still waits on the database
// must not stay "online" in those rooms, on one node or over Redis.
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { JoinResult, PresenceEvent, Room } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { closeAll, connect, createRoom, nextEvent, ok, registerUser, sleep, startNode, type TestUser } from './support/util.js';

const ROOMS = 50;
/**
 * How long the server gets to finish the joins the ghost left behind. There is
 * no event to wait for once the fix is in (those joins then change nothing),
 * so this is a settle time; before the fix every ghost join lands well within it.
 */
const SETTLE_MS = 1_000;

/** Connects `ghost` to `joinNode`, emits room:join for every room, and disconnects without waiting for a single ack. */
async function joinAndVanish(joinNode: RoomcastApp, ghost: TestUser, rooms: Room[]): Promise<void> {
  const socket = await connect(joinNode, { token: ghost.accessToken });
  for (const room of rooms) socket.emit('room:join', { roomId: room.id }, () => {});
  socket.disconnect();
  await sleep(SETTLE_MS);
}

async function expectNoGhost(ghostNode: RoomcastApp, watchNode: RoomcastApp): Promise<void> {
  const owner = await registerUser(watchNode);
  const ghost = await registerUser(ghostNode);
  const rooms = await Promise.all(Array.from({ length: ROOMS }, () => createRoom(watchNode, owner.accessToken)));

  await joinAndVanish(ghostNode, ghost, rooms);

  const watcher = await connect(watchNode, { token: owner.accessToken });
  const lists = await Promise.all(rooms.map((room) => ok<JoinResult>(watcher, 'room:join', { roomId: room.id })));
  const haunted = lists.filter((joined) => joined.online.some((u) => u.userId === ghost.user.id));
  expect(haunted, 'rooms that list the disconnected socket as online').to.have.length(0);

  // The user's real return is announced (a ghost entry used to swallow it as "already online").
  const back = await connect(ghostNode, { token: ghost.accessToken });
  const announced = nextEvent<PresenceEvent>(watcher, 'presence');
  await ok(back, 'room:join', { roomId: rooms[0]!.id });
  expect(await announced).to.include({ roomId: rooms[0]!.id, userId: ghost.user.id, online: true });
}

describe('no ghost presence after a join/disconnect race', () => {
  describe('on one node', () => {
    afterEach(closeAll);

    it(`when a socket joins ${ROOMS} rooms and disconnects at once, then no room lists it online and its return is announced`, async () => {
      const app = await startNode();
      await expectNoGhost(app, app);
    });
  });

  describe('over Redis, two nodes', () => {
    const { node } = useRedisCluster('ghost presence over Redis');

    it(`when a socket on node A joins ${ROOMS} rooms and disconnects at once, then node B lists it nowhere and its return is announced`, async () => {
      const [a, b] = await Promise.all([node('a'), node('b')]);
      await expectNoGhost(a, b);
    });
  });
});
