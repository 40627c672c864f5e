// Transport attacks against a running node (issue 20): corrupt
// Content-Encoding bodies, events a namespace does not have, and a
// DNS-rebinding page (a foreign Host with the matching Origin) trying to
// register. Each must be refused cleanly and at once.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AttackRow } from './attacks.js';
import { answerOf, emitAck, rawSocket, type Registered } from './wire.js';

/** One request with headers fetch() will not send as given; resolves with the status (0: no answer). */
function rawStatus(url: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  const { hostname, port, protocol } = new URL(url);
  const request = protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request({ host: hostname, port, method, path, headers, timeout: 10_000, servername: hostname }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

const CORRUPT: [string, Buffer][] = [
  ['gzip', Buffer.from('not gzip at all')],
  ['gzip', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00])], // a gzip header, then nothing
  ['deflate', Buffer.from('not deflate either')],
  ['br', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x01])],
];

export async function transportAttacks(url: string, member: Registered, admin: Registered): Promise<AttackRow> {
  const violations: string[] = [];
  for (const [encoding, body] of CORRUPT) {
    const status = await rawStatus(url, 'POST', '/api/auth/login', { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': String(body.length) }, body);
    if (status !== 400) violations.push(`a corrupt ${encoding} body answered ${status}, not 400`);
  }

  const unknown: [string, Registered, string][] = [
    ['/chat', member, 'no:such:event'],
    ['/chat', member, 'error'],
    ['/chat', member, 'admin:stats'],
    ['/admin', admin, 'room:join'],
  ];
  let slowest = 0;
  for (const [namespace, user, event] of unknown) {
    const socket = await rawSocket(url, user.token, namespace);
    try {
      const outcome = await emitAck(socket, event, {}, 5_000);
      if (outcome.kind !== 'ack') violations.push(`${namespace} ${event}: ${outcome.kind} instead of an ack`);
      else if (answerOf(outcome.ack) !== 'validation_failed') violations.push(`${namespace} ${event}: answered ${answerOf(outcome.ack)}`);
      slowest = Math.max(slowest, outcome.ms);
    } finally {
      socket.close();
    }
  }
  if (slowest > 1_000) violations.push(`an unknown event took ${Math.round(slowest)} ms to be answered`);

  const { port, protocol } = new URL(url);
  const host = `rebind.example${port ? `:${port}` : ''}`;
  const signUp = Buffer.from(JSON.stringify({ username: `rebind_${Date.now()}`, email: `rebind_${Date.now()}@chaos.test`, password: 'rebinding-password' }));
  const rebound = await rawStatus(url, 'POST', '/api/auth/register', { host, origin: `${protocol}//${host}`, 'content-type': 'application/json', 'content-length': String(signUp.length) }, signUp);
  if (rebound !== 403) violations.push(`a DNS-rebinding sign-up answered ${rebound}, not 403`);
  const polling = await rawStatus(url, 'GET', '/socket.io/?EIO=4&transport=polling', { host, origin: `${protocol}//${host}` });
  if (polling !== 403) violations.push(`a DNS-rebinding handshake answered ${polling}, not 403`);

  return {
    attack: 'transport: corrupt encodings, unknown events, DNS rebinding',
    runs: CORRUPT.length + unknown.length + 2,
    violations,
    facts: { unknownEventSlowestMs: Math.round(slowest), reboundSignUp: rebound, reboundHandshake: polling },
  };
}
