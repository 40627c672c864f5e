import { expect } from 'chai';
import type { RoomcastApp } from '../server/app.js';
import type { RefreshResponse, SessionRevokedEvent } from '../server/protocol.js';
import { login, serverDisconnect } from './support/admin.js';
import { closeAll, collect, connect, http, nextEvent, ok, registerUser, request, sleep, startNode } from './support/util.js';

/** Epoch ms at which an access token expires (read from its payload). */
const expiryOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;

describe('socket sessions', () => {
  afterEach(closeAll);

  describe('access token expiry', () => {
    let app: RoomcastApp;
    beforeEach(async () => {
      app = await startNode({ ACCESS_TOKEN_TTL: '2' });
    });

    it('when the token expires without auth:refresh, then the socket gets session:expired and is disconnected', async () => {
      const user = await registerUser(app);
      const socket = await connect(app, { token: user.accessToken });
      const expired = nextEvent(socket, 'session:expired', 4_000);
      const gone = serverDisconnect(socket, 4_000);

      expect(await expired).to.deep.equal({});
      const { at, reason } = await gone;
      expect(reason).to.equal('io server disconnect');
      expect(at).to.be.at.least(expiryOf(user.accessToken));
    });

    it('when auth:refresh brings a fresh token of the same user in time, then the socket stays past the first expiry', async () => {
      // Token expiries are whole seconds: a longer TTL and a wait past the next second make the fresh one expire later.
      app = await startNode({ ACCESS_TOKEN_TTL: '3' });
      const user = await registerUser(app);
      const socket = await connect(app, { token: user.accessToken });
      const expired = collect(socket, 'session:expired');
      await sleep(1_100);
      const fresh = await http<RefreshResponse>(app, 'POST', '/api/auth/refresh', { body: { refreshToken: user.refreshToken } });

      const ack = await ok<{ expiresIn: number }>(socket, 'auth:refresh', { token: fresh.body.accessToken });

      expect(ack.expiresIn).to.be.within(2, 3);
      await sleep(Math.max(0, expiryOf(user.accessToken) - Date.now()) + 300);
      expect(socket.connected).to.equal(true);
      expect(expired).to.have.length(0);
      expect((await request(socket, 'room:leave', { roomId: '00000000-0000-4000-8000-000000000000' })).ok).to.equal(true);
    });

    it("auth:refresh with another user's token answers forbidden", async () => {
      const [alice, bob] = await Promise.all([registerUser(app), registerUser(app)]);
      const socket = await connect(app, { token: alice.accessToken });

      const ack = await request(socket, 'auth:refresh', { token: bob.accessToken });

      expect(!ack.ok && ack.error.code).to.equal('forbidden');
    });
  });

  describe('logout', () => {
    it('ends the sockets of that login with session:revoked logout, and leaves the other logins of the user alone', async () => {
      const app = await startNode();
      const user = await registerUser(app);
      const other = await login(app, user.user.username, user.password);
      const thisLogin = await connect(app, { token: user.accessToken });
      const otherLogin = await connect(app, { token: other.body.accessToken });
      const revoked = nextEvent<SessionRevokedEvent>(thisLogin, 'session:revoked', 2_000);
      const gone = serverDisconnect(thisLogin, 2_000);

      const res = await http(app, 'POST', '/api/auth/logout', { body: { refreshToken: user.refreshToken } });

      expect(res.status).to.equal(204);
      expect(await revoked).to.deep.equal({ reason: 'logout' });
      await gone;
      await sleep(100);
      expect(otherLogin.connected).to.equal(true);
    });
  });
});
