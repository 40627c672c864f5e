// The invariant checker: compares what the app was told (acks, rejections,
// delivered messages) with the server's stored history, read over REST.
import type { Message } from '../client-sdk/src/index.js';
import { expectJson } from '../test/support/http-json.js';
import type { Load } from './load.js';

export interface Tally {
  acked: number;
  rejected: number;
  stored: number;
  delivered: number;
  /** Acknowledged but not in the history (or stored differently). */
  lost: number;
  /** Stored twice, or delivered twice to one client. */
  duplicated: number;
  /** Sends still neither acked nor rejected when the run ended. */
  unresolved: number;
  /** Clients whose delivered list differs from the history. */
  divergent: number;
  /** Problems in words (empty when every invariant holds). */
  violations: string[];
}

/** Every message of a room, oldest first, paging through GET /api/rooms/:id/messages. */
export async function fetchHistory(baseUrl: string, token: string, roomId: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let page = 0; page < 1_000; page++) {
    const after = all.at(-1)?.seq ?? 0;
    const body = await expectJson<{ messages: Message[]; hasMore: boolean }>(baseUrl, 'GET', `/api/rooms/${roomId}/messages?afterSeq=${after}&limit=200`, {
      token,
      timeoutMs: 10_000,
    });
    all.push(...body.messages);
    if (!body.hasMore || body.messages.length === 0) return all;
  }
  return all;
}

const key = (m: Message) => `${m.id}|${m.seq}|${m.clientMsgId}|${m.content}`;

export function check(load: Load, history: Message[]): Tally {
  const violations: string[] = [];
  const byId = new Map(history.map((m) => [m.id, m]));
  const contents = new Map<string, number>();
  for (const m of history) contents.set(m.content, (contents.get(m.content) ?? 0) + 1);
  let duplicated = [...contents.values()].filter((n) => n > 1).length;
  if (duplicated) violations.push(`${duplicated} contents stored more than once`);
  history.forEach((m, i) => {
    if (m.seq !== i + 1) violations.push(`history seq ${m.seq} at position ${i + 1}: a gap or repeat`);
  });

  let lost = 0;
  let acked = 0;
  let rejected = 0;
  let unresolved = 0;
  let delivered = 0;
  let divergent = 0;
  const expected = history.map(key);
  for (const c of load.clients) {
    acked += c.acked.length;
    rejected += c.rejected.length;
    unresolved += c.pending.size;
    for (const { message } of c.acked) {
      const stored = byId.get(message.id);
      if (!stored || key(stored) !== key(message)) {
        lost++;
        violations.push(`${c.name}: acked ${message.content} (id ${message.id}) is not stored as acked`);
      }
    }
    delivered += c.seen.length;
    const seen = c.seen.map(({ message }) => key(message));
    const seqs = new Set(c.seen.map(({ message }) => message.seq));
    if (seqs.size !== seen.length) {
      duplicated += seen.length - seqs.size;
      violations.push(`${c.name}: ${seen.length - seqs.size} messages delivered twice`);
    }
    if (seen.length !== expected.length || seen.some((k, i) => k !== expected[i])) {
      divergent++;
      const firstDiff = seen.findIndex((k, i) => k !== expected[i]);
      violations.push(`${c.name}: saw ${seen.length} messages, history has ${expected.length} (first difference at ${firstDiff})`);
    }
  }
  if (unresolved) violations.push(`${unresolved} sends neither acked nor rejected`);
  return { acked, rejected, stored: history.length, delivered, lost, duplicated, unresolved, divergent, violations };
}
