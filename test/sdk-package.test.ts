// The published package end to end: build, `npm pack`, install the tarball
// into a scratch project, type-check an ESM and a CommonJS consumer against
// the shipped declarations, and run a consumer against a real node.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { closeAll, createRoom, registerUser, startNode } from './support/util.js';

const run = promisify(execFile);
const ROOT = path.resolve('.');
const SDK_DIR = path.join(ROOT, 'client-sdk');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const ESM_CONSUMER_TS = `
import { createClient, RoomcastError, State, type ConnectionState, type Message, type Room } from '@roomcast/client';
import { ERROR_STATUS, type ErrorCode, type ChatServerToClientEvents } from '@roomcast/client/protocol';

const client = createClient({ url: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], reconnect: { minDelayMs: 100 } });
const code: ErrorCode = 'not_found';
const status: number = ERROR_STATUS[code];
client.on('state', ({ state, previous }) => {
  const now: ConnectionState = state;
  if (now === State.Closed && previous === 'connected') console.log('closed');
});
type NewMessage = Parameters<ChatServerToClientEvents['message:new']>[0];
export async function chat(roomId: string): Promise<Message> {
  const room: Room = await client.join(roomId);
  room.on('message', (m: NewMessage) => console.log(m.seq, m.content));
  try {
    return await room.send('hello');
  } catch (err) {
    if (err instanceof RoomcastError) console.log(err.code, status);
    throw err;
  }
}
`;

const CJS_CONSUMER_CTS = `
import { createClient, type RoomcastClient } from '@roomcast/client';
export const client: RoomcastClient = createClient({ url: 'http://127.0.0.1:1' });
`;

const MJS_CONSUMER = `
import { createClient } from '@roomcast/client';
const [url, login, password, roomId] = process.argv.slice(2);
const client = createClient({ url, transports: ['websocket'] });
await client.login(login, password);
const rooms = await client.rooms.list();
const room = await client.join(roomId);
const message = await room.send('from the packed SDK');
client.close();
console.log(JSON.stringify({ rooms: rooms.map((r) => r.id), seq: message.seq, state: client.state }));
`;

const CJS_CONSUMER = `
const { createClient, RoomcastError } = require('@roomcast/client');
const client = createClient({ url: 'http://127.0.0.1:1' });
console.log(JSON.stringify({ state: client.state, error: typeof RoomcastError }));
`;

describe('@roomcast/client package', function () {
  this.timeout(300_000);
  let scratch: string;

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'roomcast-sdk-consumer-'));
  });
  after(async () => {
    await closeAll();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('when packed and installed into a scratch project, then ESM and CommonJS consumers type-check and run against a real node', async () => {
    await run(NPM, ['run', 'build'], { cwd: SDK_DIR, timeout: 120_000 });
    const packDir = path.join(scratch, 'pack');
    await mkdir(packDir, { recursive: true });
    await run(NPM, ['pack', '--pack-destination', packDir], { cwd: SDK_DIR, timeout: 60_000 });
    const [tarball] = (await readdir(packDir)).filter((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack made a tarball').to.be.a('string');

    const app = path.join(scratch, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run(NPM, ['install', path.join(packDir, tarball!), '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeout: 180_000 });

    await writeFile(path.join(app, 'consumer.ts'), ESM_CONSUMER_TS);
    await writeFile(path.join(app, 'consumer.cts'), CJS_CONSUMER_CTS);
    await writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], strict: true, noEmit: true },
        files: ['consumer.ts', 'consumer.cts'],
      }),
    );
    const typecheck = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, timeout: 60_000 }).catch((err: { stdout?: string }) => ({ failed: err.stdout ?? String(err) }));
    expect(typecheck, 'consumers type-check').to.not.have.property('failed');

    await writeFile(path.join(app, 'consumer.cjs'), CJS_CONSUMER);
    const cjs = await run(process.execPath, ['consumer.cjs'], { cwd: app, timeout: 30_000 });
    expect(JSON.parse(cjs.stdout)).to.deep.equal({ state: 'disconnected', error: 'function' });

    const node = await startNode();
    const user = await registerUser(node);
    const room = await createRoom(node, user.accessToken);
    await writeFile(path.join(app, 'consumer.mjs'), MJS_CONSUMER);
    const esm = await run(process.execPath, ['consumer.mjs', node.url(), user.user.username, user.password, room.id], { cwd: app, timeout: 30_000 });
    const result = JSON.parse(esm.stdout) as { rooms: string[]; seq: number; state: string };
    expect(result.rooms).to.include(room.id);
    expect(result.seq).to.equal(1);
    expect(result.state).to.equal('closed');
  });
});
