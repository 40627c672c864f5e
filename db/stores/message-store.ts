import type { Knex } from 'knex';
import type { ChangesPage, HistoryPage, Message, Role, RoomVisibility } from '../../server/protocol.js';
import { toMessage, type MessageRow } from './row-mappers.js';
import { hotPathStatements, type Statement } from './hot-path-statements.js';
import { MEMBER_CHANGES_JSON_SQL, memberChangesFromJson } from './membership-store.js';
import { enqueueEvents, MESSAGE_CREATED_OUTBOX_CTE, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

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

/**
 * Why the commit refused a send, as found inside its transaction (so no
 * change between a check and the insert can slip through). A code, not a
 * text: server/messages/message-rules.ts says what each means to the user.
 */
export type SendRefusal = 'room_not_found' | 'kicked' | 'archived' | 'read_only' | 'muted';

export type AppendOutcome =
  | { status: 'stored'; message: Message }
  | { status: 'duplicate'; message: Message }
  | { status: 'rejected'; reason: SendRefusal };

/** A change of a stored message: new content, or a soft deletion. */
export type MessageChange = { kind: 'edit'; content: string } | { kind: 'delete' };

/**
 * What the rules for changing a message need, read under the change's locks
 * (server/messages/message-rules.ts judges it; the store only reads it).
 */
export interface MessageChangeContext {
  message: Message;
  room: { visibility: RoomVisibility; readOnly: boolean; archived: boolean };
  /** Whether the acting user is a member of the message's room. */
  member: boolean;
  /** Whether the acting user has a live mute in that room. */
  muted: boolean;
}

export interface HistoryOptions {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
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
  'messages.change',
];

/** One send's identity; PostgreSQL compares (and answers) uuids in lower case, whatever case they came in. */
const pairKey = (userId: string, clientMsgId: string) => `${userId.toLowerCase()}\u0000${clientMsgId.toLowerCase()}`;

/**
 * The whole group commit as one statement. Inputs are whole columns as
 * arrays (`unnest`), so a batch of 500 is five bindings, and a sixth holds
 * the batch's distinct rooms (an index lookup each, not a scan of rooms):
 *  - dup: sends already stored (a client retry) answer the original; one
 *    index probe per send (LATERAL ... LIMIT 1 keeps it so: as a plain join
 *    the planner hashed the whole messages table for big batches, and a
 *    commit then grew with the table);
 *  - locked: the batch's rooms, locked in id order (nodes cannot deadlock);
 *    a row locked FOR UPDATE is its newest version, so its last_seq is the
 *    base no other transaction can move until this one commits;
 *  - judged: the send rules of server/messages/message-rules.ts, checked
 *    under the room lock: a room the user cannot see is room_not_found, then
 *    a running kick block kicked, archived, read_only (members only), a live
 *    mute muted;
 *  - bumped/ins: each room's last_seq and last_change (the change log,
 *    issue 13: a creation is one change) go up once by its number of new
 *    messages, and the rows go in numbered in batch order above both bases,
 *    so seq and change advance together in this one statement.
 * Stored rows come back with their (user_id, client_msg_id), the others with
 * their 1-based `ord`. No CTE is joined to another one after `judged`: the
 * planner guesses one row for each, and nested loops over them made the cost
 * grow with the square of the batch.
 */
const appendBatchSql = (webhookOutbox: string) => `
with p as (
  select * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::uuid[], ?::text[])
    with ordinality as p(room_id, user_id, content, client_msg_id, role, ord)
), dup as (
  select p.ord, m.id, m.seq, u.username, m.content, m.created_at, m.edited_at, m.deleted_at, m.change
    from p
   cross join lateral (
     select * from messages m where m.user_id = p.user_id and m.client_msg_id = p.client_msg_id limit 1
   ) m
    join users u on u.id = m.user_id
), locked as (
  select r.id, r.last_seq, r.last_change, r.visibility, r.read_only, r.archived
    from rooms r
   where r.id = any(?::uuid[])
   order by r.id
     for update
), judged as (
  select p.ord, p.room_id, p.user_id, p.content, p.client_msg_id, l.last_seq, l.last_change,
         case
           when l.id is null then 'room_not_found'
           when l.visibility = 'private' and p.role <> 'admin'
                and not exists (select 1 from room_members rm where rm.room_id = p.room_id and rm.user_id = p.user_id) then 'room_not_found'
           when exists (select 1 from room_kicks k where k.room_id = p.room_id and k.user_id = p.user_id and k.until > now()) then 'kicked'
           when l.archived then 'archived'
           when l.read_only and p.role <> 'admin' then 'read_only'
           when exists (select 1 from mutes mu where mu.room_id = p.room_id and mu.user_id = p.user_id and mu.expires_at > now()) then 'muted'
         end as verdict
    from p
    left join locked l on l.id = p.room_id
   where not exists (select 1 from dup where dup.ord = p.ord)
), ok as (
  select * from judged where verdict is null
), bumped as (
  update rooms r set last_seq = r.last_seq + c.n, last_change = r.last_change + c.n
    from (select room_id, count(*)::int as n from ok group by room_id) c
   where r.id = c.room_id
), ins as (
  insert into messages (room_id, seq, change, user_id, content, client_msg_id)
  select room_id, last_seq + row_number() over w, last_change + row_number() over w, user_id, content, client_msg_id
    from ok
  window w as (partition by room_id order by ord)
  returning id, seq, change, user_id, client_msg_id, created_at, room_id, content
)${webhookOutbox}
select null::bigint as ord, 'stored' as status, ins.id, ins.seq, ins.change, ins.created_at, ins.user_id, ins.client_msg_id,
       null::text as username, null::text as content, null::timestamptz as edited_at, null::timestamptz as deleted_at
  from ins
union all
select dup.ord, 'duplicate', dup.id, dup.seq, dup.change, dup.created_at, null, null, dup.username, dup.content, dup.edited_at, dup.deleted_at
  from dup
union all
select judged.ord, judged.verdict, null, null, null, null, null, null, null, null, null, null
  from judged where judged.verdict is not null`;

const APPEND_BATCH_SQL = appendBatchSql('');
// Webhooks: the same statement plus one CTE writing message.created to the
// outbox (webhook-outbox.ts), run only while an endpoint subscribes to it.
const APPEND_BATCH_OUTBOX_SQL = appendBatchSql(MESSAGE_CREATED_OUTBOX_CTE);

interface AppendRow {
  /** 1-based input position; null on stored rows, which carry user_id and client_msg_id instead. */
  ord: string | number | null;
  status: 'stored' | 'duplicate' | SendRefusal;
  id: string | null;
  seq: number | null;
  change: string | null;
  created_at: Date | null;
  user_id: string | null;
  client_msg_id: string | null;
  username: string | null;
  content: string | null;
  edited_at: Date | null;
  deleted_at: Date | null;
}

function toOutcome(row: AppendRow, entry: PendingMessage): AppendOutcome {
  switch (row.status) {
    case 'room_not_found':
    case 'kicked':
    case 'archived':
    case 'read_only':
    case 'muted':
      return { status: 'rejected', reason: row.status };
    case 'stored':
    case 'duplicate': {
      const stored = row.status === 'stored';
      const message = toMessage({
        id: row.id!,
        room_id: entry.roomId,
        seq: row.seq!,
        user_id: entry.userId,
        username: stored ? entry.username : row.username!,
        content: stored ? entry.content : row.content!,
        client_msg_id: entry.clientMsgId,
        created_at: row.created_at!,
        edited_at: row.edited_at,
        deleted_at: row.deleted_at,
        change: row.change!,
      });
      return { status: row.status, message };
    }
  }
}

/**
 * The message, its author's name and its room's state; the rows locked until
 * the change commits. The room row is locked FOR NO KEY UPDATE, not FOR
 * SHARE: the change bumps its last_change, and two changes in one room that
 * both held a share lock would deadlock upgrading it. Changes in one room
 * (and the sends' group commit, which locks the room FOR UPDATE) thus take
 * their change numbers one after the other; FOREIGN KEY checks (KEY SHARE)
 * still pass.
 */
const CHANGE_CONTEXT_SQL = `
select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
       r.visibility, r.read_only, r.archived
  from messages m
  join users u on u.id = m.user_id
  join rooms r on r.id = m.room_id
 where m.id = ?
   for update of m
   for no key update of r`;

/** The change itself: the room's next change number and the message's new state, in one statement. */
const changeSql = (set: string) => `
with bumped as (
  update rooms set last_change = last_change + 1 where id = ? returning last_change
)
update messages m set ${set}, change = bumped.last_change
  from bumped
 where m.id = ?
returning m.id, m.room_id, m.seq, m.user_id, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change`;
const EDIT_SQL = changeSql('content = ?, edited_at = now()');
const DELETE_SQL = changeSql("content = '', deleted_at = now()");

/**
 * One page of a room's change log: the current state of the messages whose
 * latest change is after `after` (and at most `upTo`, or the room's
 * last_change), in change order, read in one statement with the room's
 * last_change so both come from one snapshot. No row: no such room.
 */
const CHANGES_SQL = `
select r.last_change as room_last_change, ${MEMBER_CHANGES_JSON_SQL} as member_changes,
       m.id, m.room_id, m.seq, m.user_id, m.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change
  from rooms r
  left join lateral (
    select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change
      from messages m
      join users u on u.id = m.user_id
     where m.room_id = r.id and m.change > ?::bigint and m.change <= coalesce(?::bigint, r.last_change)
     order by m.change
     limit ?
  ) m on true
 where r.id = ?`;

type ChangesRow = { room_last_change: string; member_changes: Parameters<typeof memberChangesFromJson>[0] } & ({ [K in keyof MessageRow]: null } | MessageRow);

/** The messages of a room whose latest change is in a window; see `MessageStore.changes`. */
export interface ChangesWindow {
  /** Changes after this number (≥ 0). */
  after: number;
  /** At most this many rows. */
  limit: number;
  /** Only changes up to this number (a join's lastChange); left out, up to the room's last change. */
  upTo?: number;
}

type ChangeContextRow = MessageRow & { visibility: RoomVisibility; read_only: boolean; archived: boolean };

export class MessageStore {
  private readonly run: Statement;

  constructor(
    private readonly knex: Knex,
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {
    this.run = hotPathStatements(knex);
  }

  /**
   * Stores a batch of messages in ONE statement (so one transaction and one
   * round trip): each room's `last_seq` is bumped once for all its new
   * messages and the rows go in with one INSERT, so seqs have no gaps and
   * no repeats under any concurrency (the room rows are locked in id order).
   * A `(user, clientMsgId)` already stored, or seen earlier in the batch,
   * answers the original message. Outcomes are returned in input order;
   * nothing is visible to anyone before the commit. If another node stores
   * the same `(user, clientMsgId)` at the same moment, the statement fails
   * whole with a unique violation and the caller runs it again.
   */
  async appendBatch(batch: readonly PendingMessage[]): Promise<AppendOutcome[]> {
    const outcomes = new Array<AppendOutcome | undefined>(batch.length);
    const firstIndexOf = new Map<string, number>();
    const fresh: number[] = [];
    batch.forEach((entry, index) => {
      const key = pairKey(entry.userId, entry.clientMsgId);
      if (!firstIndexOf.has(key)) {
        firstIndexOf.set(key, index);
        fresh.push(index);
      }
    });
    const entries = fresh.map((index) => batch[index]!);
    const outbox = this.webhooks.wants('message.created');
    const rows = await this.run<AppendRow>(outbox ? 'roomcast_append_batch_outbox' : 'roomcast_append_batch', outbox ? APPEND_BATCH_OUTBOX_SQL : APPEND_BATCH_SQL, [
      entries.map((e) => e.roomId),
      entries.map((e) => e.userId),
      entries.map((e) => e.content),
      entries.map((e) => e.clientMsgId),
      entries.map((e) => e.role),
      [...new Set(entries.map((e) => e.roomId))],
    ]);
    for (const row of rows) {
      const index = row.ord === null ? firstIndexOf.get(pairKey(row.user_id!, row.client_msg_id!))! : fresh[Number(row.ord) - 1]!;
      outcomes[index] = toOutcome(row, batch[index]!);
    }

    // Repeats inside the batch mirror their first occurrence.
    batch.forEach((entry, index) => {
      if (outcomes[index]) return;
      const first = outcomes[firstIndexOf.get(pairKey(entry.userId, entry.clientMsgId))!];
      if (!first) throw new Error('message batch statement left a send without an outcome');
      outcomes[index] = first.status === 'stored' ? { status: 'duplicate', message: first.message } : first;
    });
    return outcomes as AppendOutcome[];
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

  /**
   * Edits or soft-deletes a message if `decide` lets it, in ONE transaction:
   * the message row is locked FOR UPDATE, its room's row and the user's
   * membership row FOR SHARE, then `decide` is given what it needs to judge
   * and throws to refuse. An archiving, a read-only switch, a removal from
   * the room or another change of the message that commits meanwhile waits
   * for this one, so the change is applied exactly as judged. A delete keeps
   * the seq and empties the content. Either takes the room's next change
   * number (rooms.last_change + 1, in the same transaction), which the
   * message then carries. Null: there is no such message.
   */
  async change<T>(messageId: string, userId: string, change: MessageChange, decide: (context: MessageChangeContext) => T): Promise<{ message: Message; decision: T } | null> {
    return this.knex.transaction(async (trx) => {
      const { rows } = (await trx.raw(CHANGE_CONTEXT_SQL, [messageId])) as { rows: ChangeContextRow[] };
      const row = rows[0];
      if (!row) return null;
      const membership = await trx('room_members').where({ room_id: row.room_id, user_id: userId }).forShare().first('user_id');
      const mute = await trx('mutes').where({ room_id: row.room_id, user_id: userId }).where('expires_at', '>', trx.fn.now()).first('user_id');
      const decision = decide({
        message: toMessage(row),
        room: { visibility: row.visibility, readOnly: row.read_only, archived: row.archived },
        member: membership !== undefined,
        muted: mute !== undefined,
      });
      const { rows: changed } = (
        change.kind === 'edit'
          ? await trx.raw(EDIT_SQL, [row.room_id, change.content, messageId])
          : await trx.raw(DELETE_SQL, [row.room_id, messageId])
      ) as { rows: Omit<MessageRow, 'username'>[] };
      const message = toMessage({ ...changed[0]!, username: row.username });
      // Webhooks: the change's event commits with it.
      await enqueueEvents(trx, this.webhooks, [{ type: change.kind === 'edit' ? 'message.updated' : 'message.deleted', roomId: message.roomId, data: message }]);
      return { message, decision };
    });
  }

  /**
   * A page of the room's change log (issue 13): the current state of every
   * message whose latest change is in (after, upTo], by change ascending; a
   * deleted message as its tombstone. Null: there is no such room.
   */
  async changes(roomId: string, window: ChangesWindow): Promise<ChangesPage | null> {
    const upTo = window.upTo ?? null;
    const { rows } = (await this.knex.raw(CHANGES_SQL, [roomId, window.after, upTo, roomId, window.limit + 1, window.after, upTo, window.limit + 1, roomId])) as { rows: ChangesRow[] };
    const first = rows[0];
    if (!first) return null;
    const messages = rows.filter((row): row is ChangesRow & MessageRow => row.id !== null).map(toMessage);
    const members = memberChangesFromJson(first.member_changes);
    // Issue 14: messages and membership changes share the page's `limit`, in change order.
    const entries = [...messages.map((m) => m.change), ...members.map((m) => m.change)].sort((a, b) => a - b);
    const hasMore = entries.length > window.limit;
    const last = hasMore ? entries[window.limit - 1]! : Number.POSITIVE_INFINITY;
    const inWindow = members.filter((m) => m.change <= last);
    // `members` only when there are some: a page of a room without membership changes is the page it always was.
    return { changes: messages.filter((m) => m.change <= last), hasMore, lastChange: Number(first.room_last_change), ...(inWindow.length ? { members: inWindow } : {}) };
  }

  private selectMessages(db: Knex | Knex.Transaction) {
    return db('messages').join('users', 'users.id', 'messages.user_id').select(MESSAGE_COLUMNS);
  }
}
