// What one member can create or request, against a node with the default
// room and history limits (issue 20): a room flood, a history flood,
// case-variant room ids, and joins racing a disconnect (ghost presence).
import { randomUUID } from 'node:crypto';
import type { AttackRow } from './attacks.js';
import { answerOf, call, emitAck, rawSocket, sleep, type Registered, type WireAck } from './wire.js';

const ACK_MS = 10_000;

/**
 * `count` room creations at once by one member: at most `limit` rooms are
 * made, the rest answer 429 with Retry-After, nothing else. Resolves with the
 * rooms made, for the attacks after it.
 */
export async function roomFloodAttack(url: string, member: Registered, limit: number, count: number): Promise<{ row: AttackRow; roomIds: string[] }> {
  const violations: string[] = [];
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) => call<{ room: { id: string } }>(url, 'POST', '/api/rooms', { token: member.token, body: { name: `flood ${i}` } })),
  );
  const made = answers.filter((a) => a.status === 201);
  const limited = answers.filter((a) => a.status === 429);
  if (made.length > limit) violations.push(`${made.length} of ${count} parallel creations made rooms; the limit is ${limit}`);
  if (limited.some((a) => !(Number(a.headers.get('retry-after')) > 0))) violations.push('a 429 without Retry-After');
  const other = answers.filter((a) => a.status !== 201 && a.status !== 429);
  if (other.length) violations.push(`creations answered ${[...new Set(other.map((a) => a.status))].join(', ')}`);
  return {
    row: { attack: 'room flood (one member, parallel creations)', runs: count, violations, facts: { created: made.length, limited: limited.length } },
    roomIds: made.map((a) => a.body.room.id),
  };
}

/**
 * `count` room:history reads of 200 messages at once on one socket: at most
 * `limit` are answered, the rest `rate_limited`, the socket stays; another
 * user's REST history meanwhile still answers 200.
 */
export async function historyFloodAttack(url: string, member: Registered, other: Registered, roomId: string, limit: number, count: number): Promise<AttackRow> {
  const violations: string[] = [];
  const socket = await rawSocket(url, member.token);
  try {
    const reads = Array.from({ length: count }, () => emitAck(socket, 'room:history', { roomId, limit: 200 }, ACK_MS));
    const started = performance.now();
    const bystander = await call(url, 'GET', `/api/rooms/${roomId}/messages?limit=200`, { token: other.token });
    const bystanderMs = Math.round(performance.now() - started);
    const outcomes = await Promise.all(reads);
    const answers = outcomes.map((o) => (o.kind === 'ack' ? answerOf(o.ack) : o.kind));
    const answered = answers.filter((a) => a === 'ok').length;
    const limited = answers.filter((a) => a === 'rate_limited').length;
    if (answered > limit) violations.push(`${answered} of ${count} parallel reads were answered; the limit is ${limit}`);
    if (answered + limited !== count) violations.push(`unexpected answers: ${[...new Set(answers)].join(', ')}`);
    if (!socket.connected) violations.push('the refused socket was disconnected');
    if (bystander.status !== 200) violations.push(`another user's history answered ${bystander.status} during the flood`);
    return { attack: 'history flood (one socket, 200-message pages)', runs: count + 1, violations, facts: { answered, limited, bystanderMs } };
  } finally {
    socket.close();
  }
}

/**
 * A room joined by one socket with its lower-case id and by another with the
 * upper-case one: both are the same room at once (acks, presence, live
 * messages), not through the ~2 s gap fill.
 */
export async function caseVariantAttack(url: string, lower: Registered, upper: Registered, roomId: string): Promise<AttackRow> {
  const violations: string[] = [];
  const shout = roomId.toUpperCase();
  const [a, b] = await Promise.all([rawSocket(url, lower.token), rawSocket(url, upper.token)]);
  try {
    const joinA = await emitAck(a, 'room:join', { roomId }, ACK_MS);
    const joinB = await emitAck(b, 'room:join', { roomId: shout }, ACK_MS);
    const ackOf = (o: Awaited<ReturnType<typeof emitAck>>): WireAck | null => (o.kind === 'ack' ? o.ack : null);
    const bRoom = ackOf(joinB);
    if (!ackOf(joinA)?.ok || !bRoom?.ok) return { attack: 'case-variant room ids', runs: 2, violations: ['a join failed'], facts: {} };
    if ((bRoom.room as { id?: string }).id !== roomId) violations.push('the upper-case join answered a room id that is not canonical');
    const online = (bRoom.online as Array<{ userId: string }>).map((u) => u.userId);
    if (!online.includes(lower.userId) || !online.includes(upper.userId)) violations.push('presence of the room misses one of its two sockets');

    const content = `case ${randomUUID()}`;
    const arrived = new Promise<number>((resolve) => {
      const started = performance.now();
      a.on('message:new', (m: { content?: string }) => {
        if (m.content === content) resolve(performance.now() - started);
      });
      setTimeout(() => resolve(Infinity), 5_000);
    });
    const send = ackOf(await emitAck(b, 'message:send', { roomId: shout, content, clientMsgId: randomUUID() }, ACK_MS));
    if (!send?.ok) violations.push(`the upper-case send answered ${send ? answerOf(send) : 'nothing'}`);
    else if ((send.message as { roomId?: string }).roomId !== roomId) violations.push('the send was acked with a non-canonical room id');
    const deliveryMs = await arrived;
    if (deliveryMs > 1_000) violations.push(`the lower-case joiner got the upper-case send after ${Math.round(deliveryMs)} ms (gap fill), not at once`);
    return { attack: 'case-variant room ids (join, presence, send)', runs: 3, violations, facts: { deliveryMs: Number.isFinite(deliveryMs) ? Math.round(deliveryMs) : 'never' } };
  } finally {
    a.close();
    b.close();
  }
}

/**
 * A socket that asks to join every room and disconnects before any ack:
 * afterwards no room lists its user online (no ghost presence).
 */
export async function joinDisconnectRaceAttack(url: string, ghost: Registered, watcher: Registered, roomIds: string[]): Promise<AttackRow> {
  const violations: string[] = [];
  const vanishing = await rawSocket(url, ghost.token);
  for (const roomId of roomIds) vanishing.emit('room:join', { roomId }, () => {});
  vanishing.close();
  await sleep(1_000); // every join has reached the database and come back
  const watch = await rawSocket(url, watcher.token);
  try {
    const joins = await Promise.all(roomIds.map((roomId) => emitAck(watch, 'room:join', { roomId }, ACK_MS)));
    let haunted = 0;
    for (const join of joins) {
      if (join.kind !== 'ack' || !join.ack.ok) violations.push(`the watcher's join answered ${join.kind === 'ack' ? answerOf(join.ack) : join.kind}`);
      else if ((join.ack.online as Array<{ userId: string }>).some((u) => u.userId === ghost.userId)) haunted++;
    }
    if (haunted) violations.push(`${haunted} of ${roomIds.length} rooms list the disconnected socket's user online`);
    return { attack: 'join/disconnect race (ghost presence)', runs: roomIds.length, violations, facts: { rooms: roomIds.length, haunted } };
  } finally {
    watch.close();
  }
}
