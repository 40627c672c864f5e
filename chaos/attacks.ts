// Hostile input against a running node process: raw Engine.IO/Socket.IO
// frames over websocket and polling (the inputs behind past advisories),
// hostile upgrade requests, prototype-pollution keys in REST bodies and query
// strings, forged tokens, and login enumeration by status, body and timing.
import { createHmac, randomUUID } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import { call, register, runUsername, sleep, type Registered } from './wire.js';

export interface AttackRow {
  attack: string;
  /** How many hostile inputs were sent. */
  runs: number;
  violations: string[];
  facts: Record<string, number | string | boolean>;
}

// ---------------------------------------------------------------- raw frames

/** Engine.IO "message" frames carrying Socket.IO packets, sent after a /chat connect. */
function hostileFrames(roomId: string): Array<string | Buffer> {
  const send = (payload: string) => `42/chat,["message:send",${payload}]`;
  return [
    '42/chat,["error",{"roomId":"x"}]', // CVE-2024-38355: an event named error
    '42/chat,["error"]',
    '42[{"toString":"foo"}]', // CVE-2023-32695: a non-string event name
    '42/chat,[{"toString":"foo"},{}]',
    '42/chat,[42,{}]',
    '42/chat,[null]',
    '42/chat,[]',
    '42/chat,{}',
    '42/chat,"message:send"',
    send(`{"_placeholder":true,"num":0}`), // CVE-2022-2421: placeholders in a plain event
    send(`{"roomId":{"_placeholder":true,"num":"__proto__"},"content":"x","clientMsgId":"${randomUUID()}"}`),
    `451-/chat,["message:send",{"_placeholder":true,"num":0}]`, // one attachment declared, none sent
    `450-/chat,["message:send",{"_placeholder":true,"num":0}]`, // zero attachments declared, a placeholder used
    `454999999999-/chat,["message:send",{"_placeholder":true,"num":0}]`, // a huge attachment count
    `45-1-/chat,["message:send",{}]`,
    `459007199254740993-/chat,["message:send",{}]`,
    `461-/chat,1[{"_placeholder":true,"num":0}]`,
    `42/chat,["message:send",{"roomId":"${roomId}","content":"x","clientMsgId":"${randomUUID()}","__proto__":{"polluted":1}}]`,
    `42/chat,["message:send",{"roomId":"${roomId}","content":{"__proto__":{"length":1}},"clientMsgId":"${randomUUID()}"}]`,
    '42/chat,["room:join",{"roomId":"' + roomId + '","constructor":{"prototype":{"polluted":1}}}]',
    '42/chat,[',
    '42/chat,["message:send",' + '['.repeat(5_000) + ']'.repeat(5_000) + ']', // deep nesting
    '4' + '2/chat,["message:send",' + JSON.stringify({ roomId, content: 'x'.repeat(200_000), clientMsgId: randomUUID() }) + ']', // oversized frame
    '40/chat,{"token":{"__proto__":{"polluted":1}}}',
    '41/chat,',
    '43/chat,99[{}]',
    '2probe',
    '6',
    '9',
    Buffer.from([4, 0, 1, 2, 3]),
  ];
}

async function wsSession(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ws session timed out')), 5_000);
    ws.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('0')) ws.send(`40/chat,${JSON.stringify({ token })}`);
      else if (text.startsWith('40/chat')) {
        clearTimeout(timer);
        resolve();
      } else if (text.startsWith('44/chat')) reject(new Error(`connect refused: ${text}`));
    });
    ws.on('error', reject);
  });
  ws.on('error', () => {});
  return ws;
}

async function framesOverWebsocket(url: string, token: string, frames: Array<string | Buffer>): Promise<{ sent: number; closedBy: number }> {
  let ws = await wsSession(url, token);
  let closedBy = 0;
  for (const frame of frames) {
    if (ws.readyState !== WebSocket.OPEN) ws = await wsSession(url, token);
    ws.send(frame);
    if (typeof frame === 'string' && frame.startsWith('451-')) ws.send(Buffer.alloc(3)); // a stray attachment
    await sleep(30);
    if (ws.readyState !== WebSocket.OPEN) closedBy++;
  }
  ws.close();
  return { sent: frames.length, closedBy };
}

/** Engine.IO polling: open, connect /chat, post one frame, read; a fresh session per frame. */
async function framesOverPolling(url: string, token: string, frames: Array<string | Buffer>): Promise<{ sent: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  for (const frame of frames) {
    if (typeof frame !== 'string') continue;
    const open = await fetch(base, { signal: AbortSignal.timeout(5_000) });
    const text = await open.text();
    const sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
    const session = `${base}&sid=${sid}`;
    await fetch(session, { method: 'POST', body: `40/chat,${JSON.stringify({ token })}`, signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
    await fetch(session, { signal: AbortSignal.timeout(5_000) }).then((r) => r.text());
    const posted = await fetch(session, { method: 'POST', body: frame, signal: AbortSignal.timeout(5_000) });
    await posted.text();
    statuses[posted.status] = (statuses[posted.status] ?? 0) + 1;
    // Read whatever comes back (an ack, an error, or a close), without waiting for a long poll.
    await fetch(session, { signal: AbortSignal.timeout(300) })
      .then((r) => r.text())
      .catch(() => '');
  }
  return { sent: frames.filter((f) => typeof f === 'string').length, statuses };
}

/** A raw HTTP request written to a TCP socket; resolves with the first response line or 'closed'. */
function rawHttp(url: string, request: string, timeoutMs = 10_000): Promise<{ line: string; ms: number }> {
  const started = performance.now();
  const { hostname, port, protocol } = new URL(url);
  const tls = protocol === 'https:';
  return new Promise((resolve) => {
    const socket = tls ? tlsConnect({ host: hostname, port: Number(port || 443), servername: hostname }) : tcpConnect(Number(port || 80), hostname);
    let buffer = '';
    const done = (line: string) => {
      socket.destroy();
      resolve({ line, ms: performance.now() - started });
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.on('error', () => done('error'));
    socket.on('data', (data) => {
      buffer += String(data);
      const end = buffer.indexOf('\r\n');
      if (end >= 0) done(buffer.slice(0, end));
    });
    socket.on('close', () => done(buffer ? buffer.split('\r\n')[0]! : 'closed'));
    socket.write(request);
  });
}

export async function rawFrameAttacks(url: string, user: Registered, roomId: string): Promise<AttackRow> {
  const violations: string[] = [];
  const frames = hostileFrames(roomId);
  const ws = await framesOverWebsocket(url, user.token, frames);
  const polling = await framesOverPolling(url, user.token, frames);
  if (polling.statuses['500']) violations.push(`polling answered 500 ${polling.statuses['500']} times`);
  const host = new URL(url).host;
  const upgrade = (extra: string) =>
    `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from(randomUUID().slice(0, 16)).toString('base64')}\r\n${extra}\r\n`;
  // CVE-2021-32640: a Sec-WebSocket-Protocol header built to make a regex backtrack.
  const backtrack = await rawHttp(url, upgrade(`Sec-WebSocket-Protocol: b${' '.repeat(12_000)}x\r\n`));
  const backtrack2 = await rawHttp(url, upgrade(`Sec-WebSocket-Protocol: ${'a,'.repeat(6_000)}\r\n`));
  // CVE-2024-37890: an upgrade with thousands of headers.
  const headers = Array.from({ length: 3_000 }, (_, i) => `x-h${i}: v\r\n`).join('');
  const many = await rawHttp(url, upgrade(headers));
  for (const [name, r] of [['backtracking protocol header', backtrack], ['comma-list protocol header', backtrack2], ['3000 headers', many]] as const) {
    if (r.line === 'timeout' || r.ms > 5_000) violations.push(`${name}: no answer within 5 s (${Math.round(r.ms)} ms)`);
  }
  // A request for the upgrade path with a huge query string.
  const longQuery = await rawHttp(url, `GET /socket.io/?EIO=4&transport=polling&${'a'.repeat(100_000)}=1 HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const health = await call(url, 'GET', '/healthz');
  if (health.status !== 200) violations.push('/healthz stopped answering after the raw frames');
  return {
    attack: 'raw Engine.IO/Socket.IO frames (ws + polling) and hostile upgrades',
    runs: ws.sent + polling.sent + 4,
    violations,
    facts: {
      wsClosedByServer: ws.closedBy,
      pollingStatuses: JSON.stringify(polling.statuses),
      backtrackMs: Math.round(backtrack.ms),
      backtrackAnswer: backtrack.line,
      manyHeadersMs: Math.round(many.ms),
      manyHeadersAnswer: many.line,
      longQueryAnswer: longQuery.line,
    },
  };
}

// ------------------------------------------------------- prototype pollution

export async function pollutionAttacks(url: string, admin: Registered, roomId: string): Promise<AttackRow> {
  const violations: string[] = [];
  let runs = 0;
  const expectNo500 = async <T extends { status: number; text: string }>(what: string, answer: Promise<T>): Promise<T> => {
    runs++;
    const res = await answer;
    if (res.status >= 500) violations.push(`${what} answered ${res.status}: ${res.text.slice(0, 120)}`);
    if (/polluted/.test(res.text)) violations.push(`${what}: the answer carries the polluted key`);
    return res;
  };
  const name = runUsername('pp');
  const polluted = JSON.stringify({ username: name, email: `${name}@chaos.test`, password: `pw-${name}-secret` }).replace(/^\{/, '{"__proto__":{"role":"admin","polluted":1,"banned":true},');
  const reg = await expectNo500('register with __proto__', call<{ user?: { role: string }; accessToken?: string }>(url, 'POST', '/api/auth/register', { body: polluted }));
  if (reg.status === 201) {
    if (reg.body.user?.role !== 'member') violations.push(`a __proto__ role made a ${reg.body.user?.role}`);
    const adminList = await call(url, 'GET', '/api/admin/users', { token: reg.body.accessToken! });
    if (adminList.status !== 403) violations.push(`the polluted member got ${adminList.status} on an admin route`);
  }
  await expectNo500('login with constructor.prototype', call(url, 'POST', '/api/auth/login', { body: `{"login":"${name}","password":"pw-${name}-secret","constructor":{"prototype":{"polluted":1}}}` }));
  await expectNo500('login with nested __proto__', call(url, 'POST', '/api/auth/login', { body: `{"login":{"__proto__":{"polluted":1}},"password":"x"}` }));
  const queries = ['a[__proto__]=b', 'a[__proto__][polluted]=1', '__proto__[polluted]=1', 'constructor[prototype][polluted]=1', 'afterSeq[__proto__]=1', 'limit[constructor][prototype][polluted]=1', 'afterSeq=1&afterSeq=2', 'beforeSeq[]=1'];
  for (const q of queries) {
    await expectNo500(`history ?${q}`, call(url, 'GET', `/api/rooms/${roomId}/messages?${q}`, { token: admin.token }));
    await expectNo500(`admin users ?${q}`, call(url, 'GET', `/api/admin/users?${q}`, { token: admin.token }));
    await expectNo500(`audit ?${q}`, call(url, 'GET', `/api/admin/audit?${q}`, { token: admin.token }));
  }
  await expectNo500('room create with __proto__', call(url, 'POST', '/api/rooms', { token: admin.token, body: '{"name":"pp room","__proto__":{"visibility":"private","readOnly":true}}' }));
  await expectNo500('room patch with __proto__', call(url, 'PATCH', `/api/rooms/${roomId}`, { token: admin.token, body: '{"__proto__":{"archived":true}}' }));
  await expectNo500('broadcast with constructor', call(url, 'POST', '/api/admin/broadcast', { token: admin.token, body: '{"content":"pp","constructor":{"prototype":{"polluted":1}}}' }));
  // Observable effects a polluted Object.prototype would have: fresh objects
  // gaining a role, a room turning archived or read-only, a body gaining a key.
  const fresh = await register(url, 'ppcheck');
  const me = await call<{ user: Record<string, unknown> }>(url, 'GET', '/api/me', { token: fresh.token });
  if (me.body.user.role !== 'member' || 'polluted' in me.body.user) violations.push(`a fresh user looks polluted: ${me.text}`);
  const room = await call<{ room: Record<string, unknown> }>(url, 'GET', `/api/rooms/${roomId}`, { token: fresh.token });
  if (room.status !== 200 || room.body.room.archived !== false || room.body.room.readOnly !== false) violations.push(`the room looks polluted: ${room.text.slice(0, 200)}`);
  const create = await call<{ room: Record<string, unknown> }>(url, 'POST', '/api/rooms', { token: fresh.token, body: { name: 'after pollution' } });
  if (create.status !== 201 || create.body.room.visibility !== 'public') violations.push(`a member's room after the pollution attempts: ${create.status} ${create.text.slice(0, 200)}`);
  return { attack: 'prototype-pollution keys in REST bodies and queries', runs, violations, facts: {} };
}

// -------------------------------------------------------------------- tokens

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
function hmacToken(header: object, payload: object, key: string, alg: 'sha256' | 'sha512' = 'sha256'): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac(alg, key).update(head).digest('base64url')}`;
}

/** Forged variants of a real access token (`secret` is the key the node was configured with). */
function forgedTokens(real: string, secret: string, otherUserId: string): Array<[string, string]> {
  const [h, p, sig] = real.split('.') as [string, string, string];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  return [
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['alg None, signature kept', `${b64({ alg: 'None', typ: 'JWT' })}.${p}.${sig}`],
    ['wrong key', hmacToken(header, claims, 'not-the-secret-but-long-enough-for-hs256')],
    ['HS512 with the right key', hmacToken({ ...header, alg: 'HS512' }, claims, secret, 'sha512')],
    ['kid injection, empty key', hmacToken({ ...header, kid: '../../../../../dev/null' }, claims, '')],
    ['kid SQL injection', hmacToken({ ...header, kid: "x' UNION SELECT 'key" }, claims, 'key')],
    ['jku pointing elsewhere', hmacToken({ ...header, jku: 'http://evil.example/jwks.json', kid: 'evil' }, claims, 'evil-key')],
    ['typ injection', hmacToken({ ...header, typ: 'JWT"; admin=true' }, claims, 'wrong')],
    ['expired', hmacToken(header, { ...claims, iat: now - 7200, exp: now - 3600 }, secret)],
    ['nbf in the future', hmacToken(header, { ...claims, nbf: now + 3600 }, secret)],
    ['wrong iss', hmacToken(header, { ...claims, iss: 'evil-issuer' }, secret)],
    ['wrong aud', hmacToken(header, { ...claims, aud: 'evil-audience' }, secret)],
    ['no exp', hmacToken(header, Object.fromEntries(Object.entries(claims).filter(([k]) => k !== 'exp')), 'wrong')],
    ['role claim altered, not re-signed', `${h}.${b64({ ...claims, role: 'admin' })}.${sig}`],
    ['subject altered, not re-signed', `${h}.${b64({ ...claims, sub: otherUserId })}.${sig}`],
    ['truncated signature', `${h}.${p}.${sig.slice(0, 10)}`],
    ['garbage', 'not.a.token'],
  ];
}

function handshake(url: string, token: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(`${url}/chat`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5_000 });
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      resolve(`${err.message}/${err.data?.code ?? ''}`);
    });
  });
}

export async function tokenAttacks(url: string, member: Registered, admin: Registered, secret: string): Promise<AttackRow> {
  const violations: string[] = [];
  const forged = forgedTokens(member.token, secret, admin.userId);
  for (const [name, token] of forged) {
    const me = await call(url, 'GET', '/api/me', { token });
    if (me.status !== 401) violations.push(`${name}: GET /api/me answered ${me.status}`);
    const adminRoute = await call(url, 'GET', '/api/admin/users', { token });
    if (adminRoute.status !== 401) violations.push(`${name}: GET /api/admin/users answered ${adminRoute.status}`);
    const shake = await handshake(url, token);
    if (!['unauthorized/unauthorized', 'token_expired/token_expired'].includes(shake)) violations.push(`${name}: handshake ${shake}`);
    if (name !== 'expired' && shake.startsWith('token_expired')) violations.push(`${name}: handshake said token_expired`);
  }
  // The real token still works: the refusals are not a broken node.
  if ((await call(url, 'GET', '/api/me', { token: member.token })).status !== 200) violations.push('the real token was refused');
  if ((await handshake(url, member.token)) !== 'connected') violations.push('the real token could not connect');
  return { attack: 'forged tokens on REST and the handshake', runs: forged.length * 3, violations, facts: {} };
}

// ----------------------------------------------------------- enumeration

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/**
 * Unknown login vs wrong password, alternating: same status and body, and the
 * unknown one not clearly faster. A deployment's login-failure limit
 * (LOGIN_FAILURE_LIMIT, per address too) ends the series at its first 429:
 * what was measured until then is judged, and the fact says where it stopped.
 */
export async function enumerationAttack(url: string, victim: Registered, attempts: number): Promise<AttackRow> {
  const violations: string[] = [];
  const unknown: number[] = [];
  const wrong: number[] = [];
  const answers = new Set<string>();
  let limitedAfter: number | null = null;
  // One warm-up of each path, not measured.
  await call(url, 'POST', '/api/auth/login', { body: { login: `nobody_${randomUUID().slice(0, 8)}`, password: 'wrong-password' } });
  await call(url, 'POST', '/api/auth/login', { body: { login: victim.username, password: 'wrong-password' } });
  for (let i = 0; i < attempts; i++) {
    const isUnknown = i % 2 === 0;
    const login = isUnknown ? `nobody_${randomUUID().replace(/-/g, '').slice(0, 12)}` : victim.username;
    const res = await call(url, 'POST', '/api/auth/login', { body: { login, password: `wrong-password-${i}` } });
    if (res.status === 429) {
      limitedAfter = i;
      break;
    }
    answers.add(`${res.status} ${res.text}`);
    (isUnknown ? unknown : wrong).push(res.ms);
  }
  if (answers.size > 1) violations.push(`answers differ: ${[...answers].slice(0, 3).join(' | ')}`);
  const [mu, mw] = [median(unknown), median(wrong)];
  if (unknown.length >= 2 && wrong.length >= 2 && mu < 0.5 * mw) violations.push(`an unknown login answers in ${mu.toFixed(1)} ms, a wrong password in ${mw.toFixed(1)} ms (median)`);
  const only = [...answers][0] ?? '';
  if (answers.size && (!only.startsWith('401') || !only.includes('invalid_credentials'))) violations.push(`unexpected answer ${only.slice(0, 120)}`);
  return {
    attack: 'login enumeration (status, body, timing)',
    runs: unknown.length + wrong.length,
    violations,
    facts: { medianUnknownMs: Number(mu.toFixed(1)), medianWrongPasswordMs: Number(mw.toFixed(1)), ...(limitedAfter === null ? {} : { limitedAfter }) },
  };
}

// ------------------------------------------------------- sign-in limits

/**
 * `guesses` wrong passwords at once, through every alias of the victim
 * (username, email, upper case), then the right one once the first guess is
 * answered: a node with LOGIN_FAILURE_LIMIT=`limit` checks at most `limit`
 * of them and refuses the right password too.
 */
export async function loginRaceAttack(url: string, victim: Registered, email: string, limit: number, guesses: number): Promise<AttackRow> {
  const violations: string[] = [];
  const aliases = [victim.username, email, victim.username.toUpperCase()];
  const wrong = Array.from({ length: guesses }, (_, i) => call(url, 'POST', '/api/auth/login', { body: { login: aliases[i % aliases.length], password: `wrong-password-${i}` } }));
  await Promise.race(wrong);
  const right = await call(url, 'POST', '/api/auth/login', { body: { login: victim.username, password: victim.password } });
  const answers = await Promise.all(wrong);
  const checked = answers.filter((a) => a.status === 401).length;
  const limited = answers.filter((a) => a.status === 429).length;
  if (checked > limit) violations.push(`${checked} of ${guesses} parallel guesses were checked; the limit is ${limit}`);
  if (checked + limited !== guesses) violations.push(`unexpected answers: ${[...new Set(answers.map((a) => a.status))].join(', ')}`);
  if (right.status !== 429) violations.push(`the right password sent with the guesses answered ${right.status}, not 429`);
  return { attack: 'parallel login race (failure limit, aliases)', runs: guesses + 1, violations, facts: { checked, limited, rightPassword: right.status } };
}

/**
 * `count` sign-ups at once from one address while a member logs in: every
 * login succeeds, the sign-ups are refused with 429 past the per-IP limit
 * (`created` at most `limit`), and nothing answers 500.
 */
export async function registrationFloodAttack(url: string, member: Registered, limit: number, count: number): Promise<AttackRow> {
  const violations: string[] = [];
  const tag = randomUUID().replace(/-/g, '').slice(0, 10);
  const flood = Array.from({ length: count }, (_, i) =>
    call(url, 'POST', '/api/auth/register', { body: { username: `fl_${tag}_${i}`, email: `fl_${tag}_${i}@chaos.test`, password: `pw-${tag}-${i}-secret` } }),
  );
  await sleep(50); // the flood has reached the node
  const logins = await Promise.all([1, 2, 3].map(() => call(url, 'POST', '/api/auth/login', { body: { login: member.username, password: member.password } })));
  const answers = await Promise.all(flood);
  const created = answers.filter((a) => a.status === 201).length;
  const limited = answers.filter((a) => a.status === 429).length;
  for (const login of logins) if (login.status !== 200) violations.push(`a login during the flood answered ${login.status}`);
  if (created > limit) violations.push(`${created} sign-ups from one address were created; the limit is ${limit}`);
  const other = answers.filter((a) => ![201, 429, 503].includes(a.status));
  if (other.length) violations.push(`sign-ups answered ${[...new Set(other.map((a) => a.status))].join(', ')}`);
  return { attack: 'registration flood from one address, logins meanwhile', runs: count + logins.length, violations, facts: { created, limited, loginStatuses: logins.map((l) => l.status).join(',') } };
}
