import type { Knex } from 'knex';
import type { HistoryPage, Message, Role } from '../../server/protocol.js';
import { toMessage, type MessageRow } from './rows.js';

const MAX_SEQ = 2_147_483_647;

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

export class MessageStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Stores a batch of messages in ONE transaction: each room's `last_seq` is
   * bumped once for all its new messages and the rows go in with one INSERT,
   * so seqs have no gaps and no repeats under any concurrency (the room rows
   * are locked in id order). A `(user, clientMsgId)` already stored, or seen
   * earlier in the batch, answers the original message. Outcomes are returned
   * in input order; nothing is visible to anyone before the commit.
   */
  async appendBatch(batch: readonly PendingMessage[]): Promise<AppendOutcome[]> {
    return this.knex.transaction(async (trx) => {
      const outcomes = new Array<AppendOutcome | undefined>(batch.length);
      const existing = await this.findByClientIds(trx, batch);
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

      const accepted = await this.applyRoomRules(trx, batch, fresh, outcomes);
      const stored = await this.insertWithSeqs(trx, batch, accepted);
      accepted.forEach((index, i) => (outcomes[index] = { status: 'stored', message: stored[i]! }));

      // Repeats inside the batch mirror their first occurrence.
      batch.forEach((entry, index) => {
        if (outcomes[index]) return;
        const first = outcomes[firstIndexOf.get(pairKey(entry.userId, entry.clientMsgId))!]!;
        outcomes[index] = first.status === 'stored' ? { status: 'duplicate', message: first.message } : first;
      });
      return outcomes as AppendOutcome[];
    });
  }

  /** Messages of a room by seq window, always oldest first. */
  async history(roomId: string, options: HistoryOptions): Promise<HistoryPage> {
    // seq is an int4 column: a bound past its range means the same as its
    // largest value, and PostgreSQL would refuse the comparison (an internal error).
    const clamp = (seq: number) => Math.min(seq, MAX_SEQ);
    const query = this.selectMessages(this.knex).where('messages.room_id', roomId).limit(options.limit + 1);
    if (options.afterSeq !== undefined) {
      const rows = (await query.where('messages.seq', '>', clamp(options.afterSeq)).orderBy('messages.seq', 'asc')) as MessageRow[];
      return { messages: rows.slice(0, options.limit).map(toMessage), hasMore: rows.length > options.limit };
    }
    if (options.beforeSeq !== undefined) query.where('messages.seq', '<', clamp(options.beforeSeq));
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

  private async findByClientIds(trx: Knex.Transaction, batch: readonly PendingMessage[]): Promise<Map<string, Message>> {
    const pairs = batch.map((m) => [m.userId, m.clientMsgId]);
    const rows = (await this.selectMessages(trx).whereIn(['messages.user_id', 'messages.client_msg_id'], pairs)) as MessageRow[];
    return new Map(rows.map((row) => [pairKey(row.user_id, row.client_msg_id), toMessage(row)]));
  }

  /**
   * Locks the batch's rooms and rejects what the rules forbid: rooms the user
   * cannot see (`not_found`), archived or read-only rooms (`read_only`), and
   * live mutes (`muted`). Returns the indexes that may be stored.
   */
  private async applyRoomRules(
    trx: Knex.Transaction,
    batch: readonly PendingMessage[],
    candidates: number[],
    outcomes: (AppendOutcome | undefined)[],
  ): Promise<number[]> {
    if (candidates.length === 0) return [];
    const roomIds = [...new Set(candidates.map((i) => batch[i]!.roomId))].sort();
    const rooms = new Map<string, RoomLockRow>();
    const roomRows = (await trx('rooms')
      .select('id', 'visibility', 'read_only', 'archived')
      .whereIn('id', roomIds)
      .orderBy('id')
      .forUpdate()) as RoomLockRow[];
    for (const row of roomRows) rooms.set(row.id, row);

    const pairs = candidates.map((i) => [batch[i]!.roomId, batch[i]!.userId]);
    const members = new Set(
      ((await trx('room_members').select('room_id', 'user_id').whereIn(['room_id', 'user_id'], pairs)) as { room_id: string; user_id: string }[]).map(
        (r) => pairKey(r.room_id, r.user_id),
      ),
    );
    const muted = new Set(
      ((await trx('mutes')
        .select('room_id', 'user_id')
        .whereIn(['room_id', 'user_id'], pairs)
        .where('expires_at', '>', trx.fn.now())) as { room_id: string; user_id: string }[]).map((r) => pairKey(r.room_id, r.user_id)),
    );

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

  /** Bumps each room's last_seq once and inserts the rows with consecutive seqs. */
  private async insertWithSeqs(trx: Knex.Transaction, batch: readonly PendingMessage[], accepted: number[]): Promise<Message[]> {
    if (accepted.length === 0) return [];
    const perRoom = new Map<string, number>();
    for (const index of accepted) perRoom.set(batch[index]!.roomId, (perRoom.get(batch[index]!.roomId) ?? 0) + 1);
    const counts = [...perRoom];
    const { rows } = (await trx.raw(
      `update rooms set last_seq = rooms.last_seq + v.n
         from (values ${counts.map(() => '(?::uuid, ?::int)').join(', ')}) as v(id, n)
        where rooms.id = v.id
        returning rooms.id, rooms.last_seq`,
      counts.flat(),
    )) as { rows: { id: string; last_seq: number }[] };
    const nextSeq = new Map(rows.map((r) => [r.id, r.last_seq - perRoom.get(r.id)! + 1]));

    const inserted = accepted.map((index) => {
      const entry = batch[index]!;
      const seq = nextSeq.get(entry.roomId)!;
      nextSeq.set(entry.roomId, seq + 1);
      return { room_id: entry.roomId, seq, user_id: entry.userId, content: entry.content, client_msg_id: entry.clientMsgId };
    });
    const returned = (await trx('messages')
      .insert(inserted)
      .returning(['id', 'room_id', 'seq', 'user_id', 'content', 'client_msg_id', 'created_at', 'edited_at', 'deleted_at'])) as Omit<MessageRow, 'username'>[];
    // RETURNING order is not promised to follow VALUES order: match rows by (room, seq).
    const byRoomSeq = new Map(returned.map((row) => [pairKey(row.room_id, String(row.seq)), row]));
    return inserted.map((values, i) =>
      toMessage({ ...byRoomSeq.get(pairKey(values.room_id, String(values.seq)))!, username: batch[accepted[i]!]!.username }),
    );
  }
}
