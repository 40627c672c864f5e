import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createApp, type RoomcastApp } from '../server/app.js';
import { logFormat, type Logger } from '../server/logger.js';
import { environment } from './support/environment.js';
import { startNodeProcess, stopChildren } from './support/processes.js';
import { ARTIFACTS_DIR } from './support/services.js';
import { closeAll, connect, http, registerUser, testConfig, uniqueName, waitFor } from './support/util.js';

type LogLine = Record<string, unknown> & { level: string; message: string };

/** A logger with the server's format that keeps its lines in memory. */
function capturingLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text.trim()) lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: winston.createLogger({ level, format: logFormat(), transports: [new winston.transports.Stream({ stream })] }), lines };
}

function jsonLines(file: string): LogLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('logs', () => {
  describe('LOG_LEVEL', () => {
    after(stopChildren);

    it('when a node runs at LOG_LEVEL=error, then it writes no info line; at info it writes its start and access lines', async () => {
      const database = environment.get().services.databaseUrl ?? 'memory';
      const quiet = uniqueName('log-error');
      const chatty = uniqueName('log-info');
      const nodes = await Promise.all([
        startNodeProcess(quiet, { DATABASE_URL: database, LOG_LEVEL: 'error' }),
        startNodeProcess(chatty, { DATABASE_URL: database, LOG_LEVEL: 'info' }),
      ]);

      for (const node of nodes) {
        await registerUser(node.url);
        expect((await http(node.url, 'GET', '/api/nowhere')).status).to.equal(404);
      }
      await stopChildren();

      const files = [quiet, chatty].map((name) => path.join(ARTIFACTS_DIR, `${name}.log`));
      const [quietLines, chattyLines] = files.map(jsonLines) as [LogLine[], LogLine[]];
      expect(quietLines.filter((line) => line.level !== 'error')).to.deep.equal([]);
      expect(chattyLines.map((line) => line.message)).to.include.members(['roomcast is listening', 'request', 'stopped']);
      expect(chattyLines.every((line) => line.node === chatty)).to.equal(true);
      // Kept only when the test fails, to read.
      for (const file of files) rmSync(file, { force: true });
    });
  });

  describe('ids on every line', () => {
    let app: RoomcastApp;
    let lines: LogLine[];

    beforeEach(async () => {
      const captured = capturingLogger();
      lines = captured.lines;
      app = await createApp(testConfig(), { database: environment.get().database, skipMigrations: true, logger: captured.logger });
      await app.listen();
    });
    afterEach(async () => {
      await closeAll();
      await app.close();
    });

    it('when a request is served, then one access line carries method, path (no query), status, duration, requestId and the userId', async () => {
      const alice = await registerUser(app);
      const requestId = uniqueName('req');

      const res = await http(app, 'GET', '/api/me?debug=1', { token: alice.accessToken, headers: { 'x-request-id': requestId } });
      const anonymous = await http(app, 'GET', '/api/me', { headers: { 'x-request-id': `${requestId}-anon` } });

      expect(res.headers.get('x-request-id')).to.equal(requestId);
      await waitFor(() => lines.some((line) => line.requestId === `${requestId}-anon`), 2_000, 'the access lines');
      const access = lines.filter((line) => line.requestId === requestId);
      expect(access).to.have.length(1);
      expect(access[0]).to.include({ level: 'info', message: 'request', method: 'GET', path: '/api/me', status: 200, userId: alice.user.id });
      expect(access[0]!.durationMs).to.be.a('number');
      const refused = lines.filter((line) => line.requestId === `${requestId}-anon`);
      expect(refused).to.have.length(1);
      expect(refused[0]).to.include({ status: anonymous.status, path: '/api/me' });
      expect(refused[0]).to.not.have.property('userId');
    });

    it('when a socket connects and disconnects, then both lines carry its socketId, userId and namespace; a refused handshake is logged without the token', async () => {
      const alice = await registerUser(app);

      const socket = await connect(app, { token: alice.accessToken });
      const socketId = socket.id!;
      socket.disconnect();
      await connect(app, { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bogus-signature' }).catch(() => null);
      await waitFor(() => lines.some((line) => line.message === 'socket disconnected' && line.socketId === socketId), 2_000, 'the disconnect line');
      await waitFor(() => lines.some((line) => line.message === 'handshake refused'), 2_000, 'the refusal line');

      const ofSocket = lines.filter((line) => line.socketId === socketId);
      expect(ofSocket.map((line) => line.message)).to.deep.equal(['socket connected', 'socket disconnected']);
      for (const line of ofSocket) expect(line).to.include({ userId: alice.user.id, namespace: '/chat' });
      expect(ofSocket[1]).to.include({ reason: 'client namespace disconnect' });
      const refusal = lines.find((line) => line.message === 'handshake refused')!;
      expect(refusal).to.include({ code: 'unauthorized', namespace: '/chat' });
      expect(refusal.socketId).to.be.a('string');
      expect(JSON.stringify(lines)).to.not.include('bogus-signature');
    });
  });

  describe('redaction', () => {
    it('when secrets sit in secret-looking fields at any depth, in messages or in Error text, then none is written', () => {
      const { logger, lines } = capturingLogger();
      const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJhIn0.c2lnbmF0dXJlLXNlY3JldA';

      logger.info(`login with Bearer ${jwt}`, { body: { user: { password: 'hunter2-password' } }, headers: { Cookie: 'roomcast_refresh=abc' } });
      logger.error('refresh failed', { err: new Error(`token ${jwt} rejected; cookie roomcast_refresh=zzz-refresh-value`), refreshToken: 'rt-secret-value' });

      const text = lines.map((line) => JSON.stringify(line)).join('\n');
      for (const secret of [jwt, 'hunter2-password', 'abc', 'zzz-refresh-value', 'rt-secret-value']) expect(text).to.not.include(secret);
      expect(lines[1]).to.have.nested.property('err.message').that.includes('rejected');
      expect(lines[1]).to.have.nested.property('err.stack').that.is.a('string');
    });
  });
});
