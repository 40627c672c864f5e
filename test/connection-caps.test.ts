// Per-user cap on open /chat sockets (cluster-wide over Redis) and per-socket
// cap on joined rooms: what one account can hold open is bounded.
import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { Ack } from '../server/protocol.js';
import { useRedisCluster } from './support/cluster.js';
import { closeAll, connect, createRoom, ok, registerUser, request, startNode, waitFor, type ChatClient, type TestUser } from './support/util.js';

type Refusal = Error & { data?: { code?: string; reason?: string } };

/** Connects, resolving with the socket or with the connect_error. */
async function tryConnect(app: RoomcastApp, user: TestUser): Promise<ChatClient | Refusal> {
  try {
    return await connect(app, { token: user.accessToken });
  } catch (err) {
    return err as Refusal;
  }
}

const refused = (outcomes: (ChatClient | Refusal)[]) => outcomes.filter((o): o is Refusal => o instanceof Error);

function expectTooMany(refusal: Refusal | undefined): void {
  expect(refusal?.message).to.equal('unavailable');
  expect(refusal?.data).to.deep.equal({ code: 'unavailable', reason: 'too_many_sockets' });
}

describe('connection caps', () => {
  describe('MAX_SOCKETS_PER_USER on one node', () => {
    afterEach(closeAll);

    it('when a user opens more sockets than the cap at once, then exactly the cap connect and the rest are refused with too_many_sockets', async () => {
      const app = await startNode({ MAX_SOCKETS_PER_USER: '3' });
      const alice = await registerUser(app);
      const bob = await registerUser(app);

      const outcomes = await Promise.all(Array.from({ length: 8 }, () => tryConnect(app, alice)));

      expect(refused(outcomes)).to.have.length(5);
      expectTooMany(refused(outcomes)[0]);
      // Another user is not affected.
      await connect(app, { token: bob.accessToken });
    });

    it('when one of the user’s sockets closes, then a new one may connect', async () => {
      const app = await startNode({ MAX_SOCKETS_PER_USER: '2' });
      const alice = await registerUser(app);
      const first = await connect(app, { token: alice.accessToken });
      await connect(app, { token: alice.accessToken });
      expectTooMany(refused([await tryConnect(app, alice)])[0]);

      first.disconnect();

      let again: ChatClient | Refusal | undefined;
      await waitFor(async () => !((again = await tryConnect(app, alice)) instanceof Error), 5_000, 'a free socket slot');
    });

    it('when the cap is 0, then it is off', async () => {
      const app = await startNode({ MAX_SOCKETS_PER_USER: '0' });
      const alice = await registerUser(app);

      const outcomes = await Promise.all(Array.from({ length: 25 }, () => tryConnect(app, alice)));

      expect(refused(outcomes)).to.have.length(0);
    });
  });

  describe('MAX_SOCKETS_PER_USER over Redis, two nodes', () => {
    const { node } = useRedisCluster('socket cap over Redis');

    it('when a user opens sockets on both nodes at once, then the cap holds cluster-wide', async () => {
      const [a, b] = await Promise.all([node('a', { MAX_SOCKETS_PER_USER: '3' }), node('b', { MAX_SOCKETS_PER_USER: '3' })]);
      const alice = await registerUser(a);

      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => tryConnect(i % 2 ? a : b, alice)));

      expect(refused(outcomes)).to.have.length(7);
      expectTooMany(refused(outcomes)[0]);
    });

    it('when a socket on node A closes, then node B lets a new one in', async () => {
      const [a, b] = await Promise.all([node('a', { MAX_SOCKETS_PER_USER: '1' }), node('b', { MAX_SOCKETS_PER_USER: '1' })]);
      const alice = await registerUser(a);
      const onA = await connect(a, { token: alice.accessToken });
      expectTooMany(refused([await tryConnect(b, alice)])[0]);

      onA.disconnect();

      await waitFor(async () => !((await tryConnect(b, alice)) instanceof Error), 5_000, 'a free socket slot on node B');
    });
  });

  describe('MAX_ROOMS_PER_SOCKET', () => {
    afterEach(closeAll);

    it('when a socket joins more rooms than the cap at once, then exactly the cap succeed and the rest answer rate_limited', async () => {
      const app = await startNode({ MAX_ROOMS_PER_SOCKET: '3' });
      const alice = await registerUser(app);
      const rooms = await Promise.all(Array.from({ length: 7 }, () => createRoom(app, alice.accessToken)));
      const socket = await connect(app, { token: alice.accessToken });

      const acks = await Promise.all(rooms.map((room) => request(socket, 'room:join', { roomId: room.id })));

      const failures = acks.filter((ack): ack is Extract<Ack, { ok: false }> => !ack.ok);
      expect(failures).to.have.length(4);
      for (const failure of failures) expect(failure.error).to.deep.include({ code: 'rate_limited', details: { reason: 'too_many_rooms', limit: 3 } });
    });

    it('when the socket is at the cap, then joining a joined room again works, and leaving one frees a place', async () => {
      const app = await startNode({ MAX_ROOMS_PER_SOCKET: '2' });
      const alice = await registerUser(app);
      const [r1, r2, r3] = await Promise.all([1, 2, 3].map(() => createRoom(app, alice.accessToken)));
      const socket = await connect(app, { token: alice.accessToken });
      await ok(socket, 'room:join', { roomId: r1!.id });
      await ok(socket, 'room:join', { roomId: r2!.id });

      const third = await request(socket, 'room:join', { roomId: r3!.id });
      await ok(socket, 'room:join', { roomId: r1!.id });
      await ok(socket, 'room:leave', { roomId: r2!.id });
      await ok(socket, 'room:join', { roomId: r3!.id });

      expect(third.ok).to.equal(false);
    });
  });
});
