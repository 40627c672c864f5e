// examples/embedded-app runs against a real Roomcast node: its backend (a
// child process) issues the tokens and serves the JWKS Roomcast verifies
// them with, drives rooms with an API key, answers the before-publish hook
// and verifies the webhooks; its SDK script (another child process) signs in
// with getToken, chats, is refused by the app's hook, and hears the backend.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { CreatedApiKey, WebhookEndpoint } from '../server/protocol.js';
import { generateSecret } from '../server/webhooks/webhook-signing.js';
import { environment } from './support/environment.js';
import { freePort } from './support/free-port.js';
import { answers200, startChild, stopChildren, waitUntil } from './support/processes.js';
import { closeAll, http, issuedSecrets, registerAdmin, startNode, waitFor } from './support/util.js';

const EXAMPLE_DIR = path.resolve(import.meta.dirname, '..', 'examples', 'embedded-app');
const TSX = ['--import', 'tsx'];

interface Step {
  step: string;
  [key: string]: unknown;
}

describe('examples/embedded-app against a Roomcast node', function () {
  this.timeout(90_000);
  afterEach(async () => {
    await stopChildren();
    await closeAll();
    await environment.get().database.knex('webhook_endpoints').delete();
  });

  it('when the app signs its user in with getToken, then the user chats, the app\'s hook refuses a blocked word, the backend publishes with its key and receives signed webhooks', async () => {
    const port = await freePort();
    const backendUrl = `http://127.0.0.1:${port}`;
    const issuer = `https://app-${randomUUID().slice(0, 8)}.example`;
    const hookSecret = generateSecret();
    issuedSecrets.add(hookSecret);
    const app = await startNode({
      AUTH_JWKS_URL: `${backendUrl}/.well-known/jwks.json`,
      AUTH_JWT_ISSUER: issuer,
      AUTH_JWT_AUDIENCE: 'roomcast',
      BEFORE_PUBLISH_URL: `${backendUrl}/hooks/before-publish`,
      BEFORE_PUBLISH_SECRET: hookSecret,
      BEFORE_PUBLISH_TIMEOUT_MS: '2000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_SUBSCRIPTION_REFRESH_MS: '100',
    });
    // The operator's part: an API key and a webhook endpoint for the app's backend.
    const admin = await registerAdmin(app);
    const key = await http<CreatedApiKey>(app, 'POST', '/api/admin/api-keys', { token: admin.accessToken, body: { name: 'example backend', scopes: ['rooms', 'publish'] } });
    expect(key.status).to.equal(201);
    issuedSecrets.add(key.body.key);
    const endpoint = await http<WebhookEndpoint>(app, 'POST', '/api/admin/webhooks', {
      token: admin.accessToken,
      body: { url: `${backendUrl}/hooks/roomcast`, events: ['message.created', 'room.created'] },
    });
    expect(endpoint.status).to.equal(201);
    issuedSecrets.add(endpoint.body.secret);

    const backend = startChild('example-backend', process.execPath, [...TSX, 'src/main.ts'], {
      ...process.env,
      PORT: String(port),
      APP_ISSUER: issuer,
      APP_AUDIENCE: 'roomcast',
      ROOMCAST_URL: app.url(),
      ROOMCAST_API_KEY: key.body.key,
      ROOMCAST_WEBHOOK_SECRET: endpoint.body.secret,
      BEFORE_PUBLISH_SECRET: hookSecret,
    }, EXAMPLE_DIR);
    await waitUntil('the example backend', () => answers200(`${backendUrl}/.well-known/jwks.json`), 30_000, backend);

    const user = `u${randomUUID().slice(0, 8)}`;
    const { stdout } = await promisify(execFile)(process.execPath, [...TSX, 'src/chat.ts'], {
      cwd: EXAMPLE_DIR,
      env: { ...process.env, BACKEND_URL: backendUrl, ROOMCAST_URL: app.url(), APP_USER: user },
      timeout: 45_000,
    });
    const steps = new Map(stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => [(JSON.parse(l) as Step).step, JSON.parse(l) as Step]));

    const history = steps.get('joined')!.history as string[];
    expect(history).to.have.length(1);
    expect(history[0]).to.match(new RegExp(`^Welcome to support-${user}-`));
    expect(steps.get('sent')).to.include({ seq: 2, username: user });
    expect(steps.get('blocked')).to.include({ code: 'rejected' });
    expect(steps.get('announcement')).to.include({ content: `Announcement for ${user}`, username: '@system', seq: 3 });

    // Webhooks: the backend verified and kept them (a retry is deduped by webhook-id there).
    const roomId = steps.get('joined')!.roomId as string;
    type Events = { events: { id: string; type: string; data: { id?: string; roomId?: string } }[]; refused: number };
    const events = async () => (await (await fetch(`${backendUrl}/events`)).json()) as Events;
    await waitFor(async () => (await events()).events.filter((e) => e.type === 'message.created' && e.data.roomId === roomId).length >= 3, 20_000, 'three message.created webhooks');
    const received = await events();
    expect(received.refused).to.equal(0);
    expect(received.events.some((e) => e.type === 'room.created' && e.data.id === roomId)).to.equal(true);
    expect(received.events.some((e) => e.type === 'message.created' && e.data.id === steps.get('sent')!.id)).to.equal(true);

    // A forged delivery (no valid signature) is refused by the example's receiver.
    const forged = await fetch(`${backendUrl}/hooks/roomcast`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': 'msg_forged', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' },
      body: JSON.stringify({ type: 'message.created', data: {} }),
    });
    expect(forged.status).to.equal(400);
    expect((await events()).refused).to.equal(1);
  });
});
