import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Room } from '../server/protocol.js';
import { createRoom, http, registerAdmin, registerUser, request, uniqueName, useNode, usersWithRoom } from './support/util.js';

const NUL = 'a\u0000b';
const LONE_SURROGATE = 'a\ud800b';

const expectValidationFailed = (res: { status: number; body: { error: { code: string } } }, what: string) => {
  expect(res.status, what).to.equal(400);
  expect(res.body.error.code, what).to.equal('validation_failed');
};

describe('string fields: no input reaches the database unchecked', () => {
  const node = useNode();

  it('when a login holds a NUL or a lone surrogate, then POST /api/auth/login answers 400 validation_failed (not 500)', async () => {
    for (const login of [NUL, LONE_SURROGATE, `\u0000`]) {
      const res = await http(node.app, 'POST', '/api/auth/login', { body: { login, password: 'whatever-password' } });
      expectValidationFailed(res, JSON.stringify(login));
    }
  });

  it('when a password or refresh token holds a NUL or a lone surrogate, then auth routes answer 400 validation_failed', async () => {
    const name = uniqueName('str');
    const cases: [string, unknown][] = [
      ['/api/auth/login', { login: name, password: `pw-${NUL}-long` }],
      ['/api/auth/login', { login: name, password: `pw-${LONE_SURROGATE}-long` }],
      ['/api/auth/register', { username: name, email: `${name}@example.test`, password: `pw-${NUL}-long` }],
      ['/api/auth/register', { username: name, email: `${name}@example.test`, password: `pw-${LONE_SURROGATE}-long` }],
      ['/api/auth/refresh', { refreshToken: NUL }],
      ['/api/auth/logout', { refreshToken: LONE_SURROGATE }],
    ];
    for (const [route, body] of cases) expectValidationFailed(await http(node.app, 'POST', route, { body }), `${route} ${JSON.stringify(body)}`);
  });

  it('when GET /api/admin/users gets a NUL in q or cursor, then it answers 400 validation_failed (not 500)', async () => {
    const admin = await registerAdmin(node.app);
    for (const query of ['q=%00', 'cursor=%00', 'q=a%00b', 'cursor=x%00']) {
      expectValidationFailed(await http(node.app, 'GET', `/api/admin/users?${query}`, { token: admin.accessToken }), query);
    }
    expect((await http(node.app, 'GET', '/api/admin/users?q=a', { token: admin.accessToken })).status).to.equal(200);
  });

  it('when socket event strings hold a lone surrogate, then the ack is validation_failed', async () => {
    const { room, sockets: [socket] } = await usersWithRoom([node.app]);
    const send = await request(socket, 'message:send', { roomId: room.id, content: LONE_SURROGATE, clientMsgId: randomUUID() });
    const refresh = await request(socket, 'auth:refresh', { token: NUL });
    for (const ack of [send, refresh]) expect(!ack.ok && ack.error.code).to.equal('validation_failed');
  });
});

describe('names are safe: room names and usernames', () => {
  const node = useNode();

  const invisibleOrControl: [string, string][] = [
    ['right-to-left override', 'evil\u202Etxt.exe'],
    ['left-to-right embedding', '\u202Aroom'],
    ['bidi isolate', 'a\u2066b\u2069'],
    ['right-to-left mark', 'room\u200F'],
    ['zero-width spaces only', '\u200B\u200B\u200B'],
    ['word joiner and BOM only', '\u2060\uFEFF'],
    ['Hangul fillers only', '\u3164\u3164'],
    ['braille blank only', '\u2800'],
    ['bell control character', 'ring\u0007'],
    ['newline', 'two\nlines'],
    ['line separator', 'a\u2028b'],
    ['lone surrogate', LONE_SURROGATE],
  ];

  it('when a room name is invisible-only or holds a control or bidirectional character, then POST /api/rooms answers 400 validation_failed', async () => {
    const alice = await registerUser(node.app);
    for (const [what, name] of invisibleOrControl) {
      expectValidationFailed(await http(node.app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name } }), what);
    }
  });

  it('when an admin renames a room to such a name, then PATCH /api/rooms/:id answers 400 validation_failed', async () => {
    const admin = await registerAdmin(node.app);
    const room = await createRoom(node.app, admin.accessToken);
    for (const [what, name] of invisibleOrControl) {
      expectValidationFailed(await http(node.app, 'PATCH', `/api/rooms/${room.id}`, { token: admin.accessToken, body: { name } }), what);
    }
  });

  it('when a room name is decomposed, then it is stored NFC-normalized; emoji sequences and scripts stay allowed', async () => {
    const alice = await registerUser(node.app);
    const cases: [string, string][] = [
      ['Cafe\u0301 corner', 'Caf\u00e9 corner'],
      ['\u{1F469}\u200D\u{1F4BB} devs', '\u{1F469}\u200D\u{1F4BB} devs'],
      ['שלום עולם', 'שלום עולם'],
      ['  padded  ', 'padded'],
    ];
    for (const [sent, stored] of cases) {
      const res = await http<{ room: Room }>(node.app, 'POST', '/api/rooms', { token: alice.accessToken, body: { name: sent } });
      expect(res.status, sent).to.equal(201);
      expect(res.body.room.name).to.equal(stored);
    }
  });

  it('when a username holds invisible, bidirectional, look-alike or control characters, then registration answers 400 validation_failed', async () => {
    const base = uniqueName('nm');
    for (const username of [`${base}\u200B`, `\u202E${base}`, `${base}\u0007`, `\uFF41${base}`, `${base}\u0430`, '\u3164\u3164\u3164']) {
      const res = await http(node.app, 'POST', '/api/auth/register', { body: { username, email: `${base}@example.test`, password: `pw-${base}-secret` } });
      expectValidationFailed(res, JSON.stringify(username));
    }
  });
});
