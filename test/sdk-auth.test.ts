import { expect } from 'chai';
import { MAX_RETRY_AFTER_MS, retryDelay } from '../client-sdk/src/connection.js';
import { RoomcastError as SdkError, type AuthResponse, type RoomcastError, type StateChange } from '../client-sdk/src/index.js';
import { closeClientsAfterEach, sdkClient, signedUpClient } from './support/sdk.js';
import { http, registerUser, sleep, startNode, uniqueName, waitFor } from './support/util.js';

describe('client SDK: sign-in modes', () => {
  closeClientsAfterEach();

  it('when the app supplies getToken and tokens live 2 s, then getToken is asked again before expiry and the socket stays up', async () => {
    const app = await startNode({ ACCESS_TOKEN_TTL: '2' });
    const user = await registerUser(app);
    let calls = 0;
    const client = sdkClient(app, {
      getToken: async () => {
        calls++;
        const res = await http<AuthResponse>(app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: user.password, client: 'native' } });
        return res.body.accessToken;
      },
    });
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const socketId = client.socketId;

    await sleep(3_500);
    const message = await room.send('still here');

    expect(calls).to.be.greaterThan(2);
    expect(client.socketId).to.equal(socketId);
    expect(message.seq).to.equal(1);
  });

  it('when a renewal comes too late, then the server expires the socket and the client reconnects with the fresh token', async () => {
    const app = await startNode({ ACCESS_TOKEN_TTL: '2' });
    const user = await registerUser(app);
    let calls = 0;
    const client = sdkClient(app, {
      getToken: async () => {
        if (++calls === 2) await sleep(3_000); // the app's auth backend is slow once
        const res = await http<AuthResponse>(app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: user.password, client: 'native' } });
        return res.body.accessToken;
      },
    });
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);

    await waitFor(() => states.some((s) => s.state === 'reconnecting'), 5_000, 'the server to expire the socket');
    await waitFor(() => client.state === 'connected', 8_000, 'the reconnect');
    const message = await room.send('back');

    expect(states.find((s) => s.state === 'reconnecting')?.reason).to.equal('session_expired');
    expect(message.seq).to.equal(1);
  });

  it('when in browser mode, then the refresh token travels only in the cookie and renewals keep the socket up', async () => {
    const app = await startNode({ ACCESS_TOKEN_TTL: '2' });
    // A browser's cookie jar for the one cookie the server sets (Node's fetch keeps none).
    let cookie: string | null = null;
    const bodies: string[] = [];
    const browserFetch = async (url: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      if (init.credentials === 'include' && cookie) headers.set('cookie', cookie);
      if (url.includes('/api/auth/')) bodies.push(String(init.body ?? ''));
      const response = await fetch(url, { ...init, headers });
      const set = response.headers.get('set-cookie');
      if (set?.startsWith('roomcast_refresh=')) cookie = set.split(';')[0]!;
      return response;
    };
    const { client } = await signedUpClient(app, { refreshMode: 'browser', fetch: browserFetch });
    const created = await client.rooms.create({ name: uniqueName('room') });
    const room = await client.join(created.id);
    const socketId = client.socketId;

    await sleep(3_000);
    const message = await room.send('cookie-powered');

    expect(cookie).to.match(/^roomcast_refresh=/);
    expect(bodies.length).to.be.greaterThan(2);
    expect(bodies.some((b) => b.includes('refreshToken'))).to.equal(false);
    expect(client.socketId).to.equal(socketId);
    expect(message.seq).to.equal(1);
  });

  it('when the client is created with credentials, then it signs in by itself on connect', async () => {
    const app = await startNode();
    const user = await registerUser(app);
    const client = sdkClient(app, { credentials: { login: user.user.username, password: user.password } });

    await client.connect();

    expect(client.state).to.equal('connected');
    expect(client.user?.id).to.equal(user.user.id);
  });

  it('when its sign-in is answered 429 with Retry-After, then the client waits that long before signing in again, and connects once the limit lifts', async function () {
    this.timeout(20_000);
    const app = await startNode({ LOGIN_FAILURE_LIMIT: '1', LOGIN_FAILURE_WINDOW: '5' });
    const user = await registerUser(app);
    // A wrong password spends the account's and the address's one failure: the next sign-ins are answered 429 until the window ends.
    expect((await http(app, 'POST', '/api/auth/login', { body: { login: user.user.username, password: 'not-the-password' } })).status).to.equal(401);
    const logins: Array<{ at: number; status: number; retryAfter: number }> = [];
    const client = sdkClient(app, {
      credentials: { login: user.user.username, password: user.password },
      // A reconnect backoff far shorter than Retry-After: only honouring it spaces the sign-ins out.
      reconnect: { minDelayMs: 20, maxDelayMs: 50 },
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (new URL(input).pathname === '/api/auth/login') logins.push({ at: Date.now(), status: res.status, retryAfter: Number(res.headers.get('retry-after')) });
        return res;
      },
    });

    await client.connect();

    expect(client.state).to.equal('connected');
    expect(logins[0]!.status).to.equal(429);
    expect(logins.at(-1)!.status).to.equal(200);
    // Each refused sign-in's answer came before the client's wait began, and the next one's after it ended.
    for (const [i, login] of logins.slice(0, -1).entries()) {
      expect(login.status).to.equal(429);
      expect(login.retryAfter).to.be.above(0);
      expect(logins[i + 1]!.at - login.at, `sign-in ${i + 2} after a Retry-After of ${login.retryAfter} s`).to.be.at.least(login.retryAfter * 1000);
    }
  });

  it('retryDelay: the backoff, raised to a rate_limited refusal\'s retryAfter, bounded by MAX_RETRY_AFTER_MS', () => {
    const limited = (retryAfter?: number) => new SdkError('rate_limited', 'slow down', undefined, 429, retryAfter);
    expect(retryDelay(100, limited(3))).to.equal(3_000);
    expect(retryDelay(5_000, limited(3))).to.equal(5_000);
    expect(retryDelay(100, limited(3_600))).to.equal(MAX_RETRY_AFTER_MS);
    expect(retryDelay(100, limited())).to.equal(100);
    expect(retryDelay(100, new SdkError('unavailable', 'down', undefined, 503, 3))).to.equal(100);
    expect(retryDelay(100)).to.equal(100);
  });

  it('when the user logs out, then the client closes with logged_out and the refresh token no longer works', async () => {
    const app = await startNode();
    const stored: (string | null)[] = [];
    const storage = { get: () => stored.at(-1) ?? null, set: (t: string | null) => void stored.push(t) };
    const { client } = await signedUpClient(app, { storage });
    const refreshToken = stored.at(-1)!;
    const states: StateChange[] = [];
    client.on('state', (s) => states.push(s));
    await client.connect();

    await client.logout();
    const reuse = await http<{ error: { code: RoomcastError['code'] } }>(app, 'POST', '/api/auth/refresh', { body: { refreshToken } });

    expect(states.at(-1)).to.include({ state: 'closed', reason: 'logged_out' });
    expect(stored.at(-1)).to.equal(null);
    expect(reuse.status).to.equal(401);
  });
});
