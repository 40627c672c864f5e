import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Message, MessageResult } from '../server/protocol.js';
import { deleteRedisKeys } from './support/redis-keys.js';
import { recordSkip } from './support/services.js';
import { environment } from './support/environment.js';
import { freePort } from './support/free-port.js';
import { answers200, hasCommand, startChild, startNodeProcess, stopChildren, waitUntil, type NodeProcess } from './support/processes.js';
import { closeAll, collect, connect, createRoom, ok, registerUser, waitFor, type ChatClient } from './support/util.js';

/**
 * The repo's deploy/nginx.conf, made runnable by a test: it listens on a
 * free 127.0.0.1 port, its upstream points at the test's nodes, and its pid,
 * logs and temp files live in `dir`. The upstream and location blocks (the
 * sticky hash and the upgrade headers) are the repo's own.
 */
function testNginxConfig(port: number, upstreams: string[], dir: string): string {
  const source = readFileSync('deploy/nginx.conf', 'utf8');
  let servers = 0;
  const config = source
    .replace(/upstream roomcast \{[\s\S]*?\}/, (block) =>
      block.replace(/^\s*server\s+[^;]+;\s*$/gm, () => (servers++ === 0 ? upstreams.map((u) => `    server ${u};`).join('\n') : '')),
    )
    .replace(/listen\s+80\s*;/, `listen 127.0.0.1:${port};`)
    .replace(
      /http \{/,
      `http {\n  access_log ${dir}/access.log;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n'),
    );
  if (servers === 0 || !config.includes(`listen 127.0.0.1:${port};`)) throw new Error('deploy/nginx.conf no longer has the upstream servers or the listen line this test rewrites');
  return `daemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n${config}`;
}

describe('through nginx with the repo config (sticky sessions, upgrade headers)', () => {
  let nodes: NodeProcess[];
  let proxyUrl: string;
  let dir: string;
  const prefix = `nginx-test-${randomUUID().slice(0, 8)}`;

  before(async function () {
    this.timeout(60_000);
    const { services } = environment.get();
    // Debian puts nginx in /usr/sbin, which a non-root PATH may lack.
    const nginxBin = (await hasCommand('nginx')) ? 'nginx' : existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : null;
    if (!nginxBin) {
      recordSkip('nginx test', 'nginx');
      this.skip();
    }
    if (!services.redisUrl || !services.databaseUrl) {
      recordSkip('nginx test', services.redisUrl ? 'PostgreSQL' : 'Redis');
      this.skip();
    }
    const env = { DATABASE_URL: services.databaseUrl, REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: prefix };
    nodes = await Promise.all([startNodeProcess('nginx-node-1', env), startNodeProcess('nginx-node-2', env)]);
    dir = mkdtempSync(path.join(tmpdir(), 'roomcast-nginx-'));
    // Run as root, nginx's workers drop to `nobody` and must reach their temp folders.
    chmodSync(dir, 0o755);
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, t));
    const port = await freePort();
    writeFileSync(path.join(dir, 'nginx.conf'), testNginxConfig(port, nodes.map((n) => n.url.replace('http://', '')), dir));
    const nginx = startChild('nginx', nginxBin, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')]);
    proxyUrl = `http://127.0.0.1:${port}`;
    await waitUntil('nginx to proxy /readyz', () => answers200(`${proxyUrl}/readyz`), 15_000, nginx);
  });
  after(async () => {
    await closeAll();
    await stopChildren();
    const { redisUrl } = environment.get().services;
    if (redisUrl) await deleteRedisKeys(redisUrl, prefix);
    // KEEP_NGINX_DIR=1 keeps the generated config and nginx logs for a look.
    if (dir && !process.env.KEEP_NGINX_DIR) rmSync(dir, { recursive: true, force: true });
  });

  it('when a polling-only client, a websocket client and a client that upgrades connect through nginx, then they all chat', async function () {
    this.timeout(30_000);
    const [polly, webby, upper] = await Promise.all([registerUser(proxyUrl), registerUser(proxyUrl), registerUser(proxyUrl)]);
    const room = await createRoom(proxyUrl, polly.accessToken);
    const polling = await connect(proxyUrl, { token: polly.accessToken, transports: ['polling'] });
    const websocket = await connect(proxyUrl, { token: webby.accessToken, transports: ['websocket'] });
    const upgrading = await connect(proxyUrl, { token: upper.accessToken, transports: ['polling', 'websocket'] });
    if (upgrading.io.engine.transport.name !== 'websocket') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no upgrade to websocket within 10 s')), 10_000);
        upgrading.io.engine.once('upgrade', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    expect(polling.io.engine.transport.name).to.equal('polling');
    expect(websocket.io.engine.transport.name).to.equal('websocket');
    expect(upgrading.io.engine.transport.name).to.equal('websocket');
    const clients: ChatClient[] = [polling, websocket, upgrading];
    for (const client of clients) await ok(client, 'room:join', { roomId: room.id });
    const received = clients.map((client) => collect<Message>(client, 'message:new'));

    for (const [i, client] of clients.entries()) {
      await ok<MessageResult>(client, 'message:send', { roomId: room.id, content: `hello from ${i}`, clientMsgId: randomUUID() });
    }

    await waitFor(() => received.every((r) => r.length === 2), 10_000, 'every client to get the two others');
    received.forEach((messages, i) => {
      expect(messages.map((m) => m.content).sort()).to.deep.equal([0, 1, 2].filter((j) => j !== i).map((j) => `hello from ${j}`));
      expect(messages.map((m) => m.seq)).to.deep.equal([...messages.map((m) => m.seq)].sort((x, y) => x - y));
    });
  });
});
