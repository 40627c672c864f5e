import type { Knex } from 'knex';
import type { HistoryPage, Message, Role } from '../../server/protocol.js';
import { toMessage, type MessageRow } from './rows.js';
import { hotPathTransactions, type Statement, type Transact } from './transactions.js';

/** A message on its way into the database, with what the rules need to know. */
export interface PendingMessage {
  roomId: string;
  userId: string;
  username: string;
  role: Role;
  content: string;
  clientMsgId: string;
}

export type RejectCode = 'not_found' | 'read_only' | 'muted';

export type AppendOutcome =
  | { status: 'stored'; message: Message }
  | { status: 'duplicate'; message: Message }
  | { status: 'rejected'; code: RejectCode; reason: string };

export interface HistoryOptions {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
}

interface RoomLockRow {
  id: string;
  visibility: 'public' | 'private';
  read_only: boolean;
  archived: boolean;
}

const MESSAGE_COLUMNS = [
  'messages.id',
  'messages.room_id',
  'messages.seq',
  'messages.user_id',
  'users.username',
  'messages.content',
  'messages.client_msg_id',
  'messages.created_at',
  'messages.edited_at',
  'messages.deleted_at',
];

const pairKey = (a: string, b: string) => `${a}\u0000${b}`;

/** Thrown inside an attempt of a batch when a send was already stored: roll back, look the repeats up, run again. */
class RepeatFound extends Error {}
const ATTEMPTS = 3;

export class MessageStore {
  private readonly transact: Transact;

  constructor(private readonly knex: Knex) {
    this.transact = hotPathTransactions(knex);
  }

  /**
   * Stores a batch of messages in ONE transaction: each room's `last_seq` is
   * bumped once for all its new messages and the rows go in with one INSERT,
   * so seqs have no gaps and no repeats under any concurrency (the room rows
   * are locked in id order). A `(user, clientMsgId)` already stored, or seen
   * earlier in the batch, answers the original message. Outcomes are returned
   * in input order; nothing is visible to anyone before the commit.
   */
  async appendBatch(batch: readonly PendingMessage[]): Promise<AppendOutcome[]> {
    // Nearly every send is new: the first attempt does not look for stored
    // repeats (3 statements). If its INSERT meets an already stored
    // (user, clientMsgId), the attempt rolls back whole and the next one
    // looks the repeats up first.
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const outcomes = await this.transact(async (run) => this.appendInTransaction(run, batch, attempt === 0 ? new Map() : await this.findByClientIds(run, batch)))
        .catch((err: unknown) => {
          if (err instanceof RepeatFound) return null;
          throw err;
        });
      if (outcomes) return outcomes;
    }
    throw new Error(`message batch still met stored repeats after ${ATTEMPTS} attempts`);
  }

  private async appendInTransaction(run: Statement, batch: readonly PendingMessage[], existing: Map<string, Message>): Promise<AppendOutcome[]> {
    const outcomes = new Array<AppendOutcome | undefined>(batch.length);
    const firstIndexOf = new Map<string, number>();
    const fresh: number[] = [];
    batch.forEach((entry, index) => {
      const key = pairKey(entry.userId, entry.clientMsgId);
      const stored = existing.get(key);
      if (stored) outcomes[index] = { status: 'duplicate', message: stored };
      else if (!firstIndexOf.has(key)) {
        firstIndexOf.set(key, index);
        fresh.push(index);
      }
    });

    const accepted = await this.applyRoomRules(run, batch, fresh, outcomes);
    const stored = await this.insertWithSeqs(run, batch, accepted);
    accepted.forEach((index, i) => (outcomes[index] = { status: 'stored', message: stored[i]! }));

    // Repeats inside the batch mirror their first occurrence.
    batch.forEach((entry, index) => {
      if (outcomes[index]) return;
      const first = outcomes[firstIndexOf.get(pairKey(entry.userId, entry.clientMsgId))!]!;
      outcomes[index] = first.status === 'stored' ? { status: 'duplicate', message: first.message } : first;
    });
    return outcomes as AppendOutcome[];
  }

  /** Messages of a room by seq window, always oldest first. */
  async history(roomId: string, options: HistoryOptions): Promise<HistoryPage> {
    const query = this.selectMessages(this.knex).where('messages.room_id', roomId).limit(options.limit + 1);
    if (options.afterSeq !== undefined) {
      const rows = (await query.where('messages.seq', '>', options.afterSeq).orderBy('messages.seq', 'asc')) as MessageRow[];
      return { messages: rows.slice(0, options.limit).map(toMessage), hasMore: rows.length > options.limit };
    }
    if (options.beforeSeq !== undefined) query.where('messages.seq', '<', options.beforeSeq);
    const rows = (await query.orderBy('messages.seq', 'desc')) as MessageRow[];
    return { messages: rows.slice(0, options.limit).reverse().map(toMessage), hasMore: rows.length > options.limit };
  }

  async findById(messageId: string): Promise<Message | null> {
    const row = await this.selectMessages(this.knex).where('messages.id', messageId).first();
    return row ? toMessage(row as MessageRow) : null;
  }

  /** Changes the content of a message that is not deleted; null if there is none. */
  async edit(messageId: string, content: string): Promise<Message | null> {
    const updated = await this.knex('messages')
      .where({ id: messageId })
      .whereNull('deleted_at')
      .update({ content, edited_at: this.knex.fn.now() });
    return updated ? this.findById(messageId) : null;
  }

  /** Soft-deletes: the message keeps its seq; null if there was nothing to delete. */
  async softDelete(messageId: string): Promise<Message | null> {
    const updated = await this.knex('messages')
      .where({ id: messageId })
      .whereNull('deleted_at')
      .update({ deleted_at: this.knex.fn.now(), content: '' });
    return updated ? this.findById(messageId) : null;
  }

  private selectMessages(db: Knex | Knex.Transaction) {
    return db('messages').join('users', 'users.id', 'messages.user_id').select(MESSAGE_COLUMNS);
  }

  // The batch queries below take whole columns as arrays (`unnest`), so a
  // batch of 500 is a handful of bindings, not thousands: knex compiles
  // them in microseconds and PostgreSQL plans them as joins instead of long
  // OR chains of tuples.

  private async findByClientIds(run: Statement, batch: readonly PendingMessage[]): Promise<Map<string, Message>> {
    const rows = await run<MessageRow>(
      'roomcast_find_repeats',
      `select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at
         from unnest(?::uuid[], ?::uuid[]) as p(user_id, client_msg_id)
         join messages m on m.user_id = p.user_id and m.client_msg_id = p.client_msg_id
         join users u on u.id = m.user_id`,
      [batch.map((m) => m.userId), batch.map((m) => m.clientMsgId)],
    );
    return new Map(rows.map((row) => [pairKey(row.user_id, row.client_msg_id), toMessage(row)]));
  }

  /**
   * Locks the batch's rooms and rejects what the rules forbid: rooms the user
   * cannot see (`not_found`), archived or read-only rooms (`read_only`), and
   * live mutes (`muted`). Returns the indexes that may be stored.
   */
  private async applyRoomRules(
    run: Statement,
    batch: readonly PendingMessage[],
    candidates: number[],
    outcomes: (AppendOutcome | undefined)[],
  ): Promise<number[]> {
    if (candidates.length === 0) return [];
    // One statement: lock the rooms (in id order, so concurrent batches on
    // other nodes cannot deadlock) and read each distinct (room, user)
    // pair's membership and mute. A room that does not exist has no row.
    const pairs = new Map<string, { roomId: string; userId: string }>();
    for (const i of candidates) pairs.set(pairKey(batch[i]!.roomId, batch[i]!.userId), { roomId: batch[i]!.roomId, userId: batch[i]!.userId });
    const list = [...pairs.values()];
    const rows = await run<RoomLockRow & { room_id: string; user_id: string; member: boolean; muted: boolean }>(
      'roomcast_lock_rooms_and_rules',
      `select p.room_id, p.user_id, r.visibility, r.read_only, r.archived,
              exists (select 1 from room_members rm where rm.room_id = p.room_id and rm.user_id = p.user_id) as member,
              exists (select 1 from mutes mu where mu.room_id = p.room_id and mu.user_id = p.user_id and mu.expires_at > now()) as muted
         from unnest(?::uuid[], ?::uuid[]) as p(room_id, user_id)
         join rooms r on r.id = p.room_id
        order by r.id
          for update of r`,
      [list.map((p) => p.roomId), list.map((p) => p.userId)],
    );
    const rooms = new Map(rows.map((row) => [row.room_id, row]));
    const members = new Set(rows.filter((f) => f.member).map((f) => pairKey(f.room_id, f.user_id)));
    const muted = new Set(rows.filter((f) => f.muted).map((f) => pairKey(f.room_id, f.user_id)));

    const reject = (index: number, code: RejectCode, reason: string) => (outcomes[index] = { status: 'rejected', code, reason });
    return candidates.filter((index) => {
      const entry = batch[index]!;
      const room = rooms.get(entry.roomId);
      const isAdmin = entry.role === 'admin';
      const key = pairKey(entry.roomId, entry.userId);
      if (!room || (room.visibility === 'private' && !isAdmin && !members.has(key))) return !reject(index, 'not_found', 'room not found');
      if (room.archived) return !reject(index, 'read_only', 'room is archived');
      if (room.read_only && !isAdmin) return !reject(index, 'read_only', 'room is read-only');
      if (muted.has(key)) return !reject(index, 'muted', 'you are muted in this room');
      return true;
    });
  }

  /**
   * One statement bumps each room's last_seq once by its number of new
   * messages and inserts the rows with the seqs just below the new value,
   * in batch order. A row whose (user, clientMsgId) is already stored is
   * skipped by the INSERT; the batch then throws RepeatFound, which rolls
   * the whole transaction back (seqs included) for the slower path.
   */
  private async insertWithSeqs(run: Statement, batch: readonly PendingMessage[], accepted: number[]): Promise<Message[]> {
    if (accepted.length === 0) return [];
    const entries = accepted.map((index) => batch[index]!);
    const rows = await run<{ id: string; room_id: string; seq: number; user_id: string; client_msg_id: string; created_at: Date }>(
      'roomcast_insert_messages',
      `with v as (
         select * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::uuid[]) with ordinality as v(room_id, user_id, content, client_msg_id, ord)
       ), bumped as (
         update rooms r set last_seq = r.last_seq + c.n
           from (select room_id, count(*)::int as n from v group by room_id) c
          where r.id = c.room_id
         returning r.id, r.last_seq - c.n as base
       )
       insert into messages (room_id, seq, user_id, content, client_msg_id)
       select v.room_id, b.base + row_number() over (partition by v.room_id order by v.ord), v.user_id, v.content, v.client_msg_id
         from v join bumped b on b.id = v.room_id
       on conflict (user_id, client_msg_id) do nothing
       returning id, room_id, seq, user_id, client_msg_id, created_at`,
      [entries.map((e) => e.roomId), entries.map((e) => e.userId), entries.map((e) => e.content), entries.map((e) => e.clientMsgId)],
    );
    if (rows.length < entries.length) throw new RepeatFound();
    // RETURNING order is not promised to follow the input order: match rows by (user, clientMsgId).
    const byClientId = new Map(rows.map((row) => [pairKey(row.user_id, row.client_msg_id), row]));
    return entries.map((entry) => {
      const row = byClientId.get(pairKey(entry.userId, entry.clientMsgId))!;
      return toMessage({
        id: row.id,
        room_id: entry.roomId,
        seq: row.seq,
        user_id: entry.userId,
        username: entry.username,
        content: entry.content,
        client_msg_id: entry.clientMsgId,
        created_at: row.created_at,
        edited_at: null,
        deleted_at: null,
      });
    });
  }
}
