// The app's backend: its own (toy) sign-in, the Roomcast token endpoint and
// JWKS, a webhook receiver, and routes that drive Roomcast with an API key.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { RoomcastApi } from './roomcast-api.js';
import { createTokenIssuer } from './tokens.js';
import { WebhookInbox } from './webhook-inbox.js';

export interface BackendConfig {
  port: number;
  /** This app's issuer (`iss`): Roomcast's AUTH_JWT_ISSUER. */
  issuer: string;
  /** Roomcast's AUTH_JWT_AUDIENCE. */
  audience: string;
  roomcastUrl: string;
  /** A server API key with the scopes rooms and publish. */
  apiKey: string;
  /** The whsec_ secret of the webhook endpoint registered for /hooks/roomcast. */
  webhookSecret: string;
  /** Roomcast's BEFORE_PUBLISH_SECRET, if its BEFORE_PUBLISH_URL points at /hooks/before-publish. */
  beforePublishSecret?: string;
}

/** Words the app's before-publish hook refuses (its moderation rule). */
const BLOCKED = ['forbidden-word'];

export async function startBackend(config: BackendConfig): Promise<{ server: Server; url: string }> {
  const tokens = await createTokenIssuer(config.issuer, config.audience);
  const roomcast = new RoomcastApi(config.roomcastUrl, config.apiKey);
  const inbox = new WebhookInbox(config.webhookSecret);
  const hookVerifier = config.beforePublishSecret ? new Webhook(config.beforePublishSecret) : null;

  const routes: Record<string, (req: IncomingMessage, body: string, url: URL) => Promise<[number, unknown?]>> = {
    'GET /.well-known/jwks.json': async () => [200, tokens.jwks()],
    // A real app checks its own session here; the example trusts ?user= (the app's user id).
    'GET /roomcast-token': async (_req, _body, url) => {
      const user = url.searchParams.get('user');
      if (!user || !/^[a-z0-9-]{1,40}$/.test(user)) return [400, { error: 'user required' }];
      return [200, { token: await tokens.issue({ id: `app-user-${user}`, handle: user }) }];
    },
    'POST /rooms': async (_req, body) => {
      const { name } = JSON.parse(body) as { name: string };
      const room = await roomcast.createRoom(name);
      await roomcast.announce(room.id, `Welcome to ${name}`);
      return [201, { room }];
    },
    'POST /announce': async (_req, body) => {
      const { roomId, text } = JSON.parse(body) as { roomId: string; text: string };
      return [201, { message: await roomcast.announce(roomId, text) }];
    },
    'POST /hooks/roomcast': async (req, body) => [inbox.receive(body, req.headers as Record<string, string>)],
    'GET /events': async () => [200, { events: inbox.events, refused: inbox.refused }],
    'POST /hooks/before-publish': async (req, body) => {
      if (!hookVerifier) return [404];
      let call: { data: { content: string } };
      try {
        call = hookVerifier.verify(body, req.headers as Record<string, string>) as typeof call;
      } catch {
        return [400];
      }
      const blocked = BLOCKED.find((word) => call.data.content.includes(word));
      return [200, blocked ? { action: 'reject', reason: `"${blocked}" is not allowed` } : { action: 'accept' }];
    },
  };

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://backend');
    const route = routes[`${req.method} ${url.pathname}`];
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      const [status, answer] = route ? await route(req, Buffer.concat(chunks).toString('utf8'), url) : [404];
      if (answer === undefined) res.writeHead(status).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    } catch (err) {
      console.error(err);
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
    }
  }
  await new Promise<void>((resolve) => server.listen(config.port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
