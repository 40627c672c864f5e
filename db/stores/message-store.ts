import type { Knex } from 'knex';
import type { ChangesPage, HistoryPage, Message, Reaction, ReactionChange, Role, RoomVisibility } from '../../server/protocol.js';
import { toMessage, type MessageRow } from './row-mappers.js';
import { hotPathStatements, type Statement } from './hot-path-statements.js';
import { reactionsColumn } from './reaction-sql.js';
import { MEMBER_CHANGES_JSON_SQL, memberChangesFromJson } from './membership-store.js';
import { enqueueEvents, isoSql, MESSAGE_CREATED_OUTBOX_CTE, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';
import { THREAD_BUMP, THREAD_BUMP_COLUMN, THREAD_CTE, THREAD_ROWS, THREAD_VERDICT } from './thread-sql.js';

const MAX_SEQ = 2_147_483_647;

/** A message on its way into the database, with what the rules need to know. */
export interface PendingMessage {
  roomId: string;
  userId: string;
  username: string;
  role: Role;
  content: string;
  clientMsgId: string;
  /**
   * Mentions (issue 14): the lower-cased `@username` candidates of the content
   * (server/messages/mentions.ts), left out when it has no '@'. The commit
   * keeps those naming members of the room.
   */
  mentionNames?: readonly string[];
  /** Replies (issue 14): the seq of the message of the same room this one replies to. */
  replyToSeq?: number;
}

/**
 * Why the commit refused a send, as found inside its transaction (so no
 * change between a check and the insert can slip through). A code, not a
 * text: server/messages/message-rules.ts says what each means to the user.
 */
export type SendRefusal = 'room_not_found' | 'kicked' | 'archived' | 'read_only' | 'muted' | 'parent_not_found';

export type AppendOutcome =
  /** `parent`: a reply's parent as this batch left it (replyCount, lastReplyAt, its new change number). */
  | { status: 'stored'; message: Message; parent?: Message }
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
  'messages.mentions',
  'messages.reply_to_seq',
  'messages.reply_count',
  'messages.last_reply_at',
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
 * With `threads` (a batch holding a reply, issue 14) the pieces of
 * thread-sql.ts join in: a reply_to_seq input column, the parent rule in
 * `judged`, one change number per replied-to parent in `bumped`, and the
 * `threads` CTE updating the parents, whose new states come back as rows
 * of status 'parent'.
 */
const appendBatchSql = (webhookOutbox: string, mentions: MentionsSql, threads: boolean) => `
with p as (
  select * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::uuid[], ?::text[]${mentions.input}${threads ? ', ?::int[]' : ''})
    with ordinality as p(room_id, user_id, content, client_msg_id, role${mentions.inputColumn}${threads ? ', reply_to_seq' : ''}, ord)
), dup as (
  select p.ord, m.id, m.seq, u.username, m.content, m.created_at, m.edited_at, m.deleted_at, m.change,
         m.mentions,
         m.reply_to_seq, m.reply_count, m.last_reply_at,
         ${reactionsColumn('m', 'p.user_id')} -- reactions: read for retries only
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
  select p.ord, p.room_id, p.user_id, p.content, p.client_msg_id, l.last_seq, l.last_change${mentions.judgedColumn},${threads ? ' p.reply_to_seq,' : ''}
         case
           when l.id is null then 'room_not_found'
           when l.visibility = 'private' and p.role <> 'admin'
                and not exists (select 1 from room_members rm where rm.room_id = p.room_id and rm.user_id = p.user_id) then 'room_not_found'
           when exists (select 1 from room_kicks k where k.room_id = p.room_id and k.user_id = p.user_id and k.until > now()) then 'kicked'
           when l.archived then 'archived'
           when l.read_only and p.role <> 'admin' then 'read_only'
           when exists (select 1 from mutes mu where mu.room_id = p.room_id and mu.user_id = p.user_id and mu.expires_at > now()) then 'muted'${threads ? THREAD_VERDICT : ''}
         end as verdict
    from p
    left join locked l on l.id = p.room_id
   where not exists (select 1 from dup where dup.ord = p.ord)
), ok as (
  select * from judged where verdict is null
), bumped as (
  update rooms r set last_seq = r.last_seq + c.n, last_change = r.last_change + c.n${threads ? THREAD_BUMP : ''}
    from (select room_id, count(*)::int as n${threads ? THREAD_BUMP_COLUMN : ''} from ok group by room_id) c
   where r.id = c.room_id
), ins as (
  insert into messages (room_id, seq, change, user_id, content, client_msg_id${mentions.insertColumn}${threads ? ', reply_to_seq' : ''})
  select room_id, last_seq + row_number() over w, last_change + row_number() over w, user_id, content, client_msg_id${mentions.insertValue}${threads ? ', reply_to_seq' : ''}
    from ok
  window w as (partition by room_id order by ord)
  returning id, seq, change, user_id, client_msg_id, created_at, room_id, content,
            mentions, reply_to_seq
)${mentions.cte}${threads ? THREAD_CTE : ''}${webhookOutbox}
select null::bigint as ord, 'stored' as status, ins.id, ins.seq, ins.change, ${isoSql('ins.created_at')} as created_at, ins.user_id, ins.client_msg_id,
       null::text as username, null::text as content, null::timestamptz as edited_at, null::timestamptz as deleted_at,
       ins.mentions,
       null::int as reply_to_seq, null::int as reply_count, null::timestamptz as last_reply_at, null::uuid as room_id,
       null::json as reactions
  from ins
union all
select dup.ord, 'duplicate', dup.id, dup.seq, dup.change, ${isoSql('dup.created_at')}, null, null, dup.username, dup.content, dup.edited_at, dup.deleted_at,
       dup.mentions,
       dup.reply_to_seq, dup.reply_count, dup.last_reply_at, null,
       dup.reactions
  from dup
union all
select judged.ord, judged.verdict, null, null, null, null, null, null, null, null, null, null,
       null,
       null, null, null, null,
       null
  from judged where judged.verdict is not null${threads ? THREAD_ROWS : ''}`;

/**
 * Mentions (issue 14): the pieces appendBatchSql takes for a batch in which
 * some message has '@' candidates (a seventh input array, `mention_names`,
 * space-separated lower-case names, '' for none). At insert each message's names
 * are resolved to the users who are members of its room (members only: a
 * public room's non-members are not notified; a private room's members are
 * the only names it can resolve, so it reveals no one else), its author left
 * out; the ids go into messages.mentions (null: none) and, by the `mentioned`
 * CTE, into message_mentions, which mentionCount counts. Batches without any
 * '@' run the plain statement, which pays for none of this.
 */
interface MentionsSql {
  input: string;
  inputColumn: string;
  judgedColumn: string;
  insertColumn: string;
  insertValue: string;
  cte: string;
}
const NO_MENTIONS: MentionsSql = { input: '', inputColumn: '', judgedColumn: '', insertColumn: '', insertValue: '', cte: '' };
const WITH_MENTIONS: MentionsSql = {
  input: ', ?::text[]',
  inputColumn: ', mention_names',
  judgedColumn: ', p.mention_names',
  insertColumn: ', mentions',
  insertValue: `,
         (select array_agg(u.id order by u.id) from users u
           where lower(u.username) = any(string_to_array(ok.mention_names, ' ')) and u.id <> ok.user_id
             and exists (select 1 from room_members rm where rm.room_id = ok.room_id and rm.user_id = u.id))`,
  cte: `, mentioned as (
  insert into message_mentions (user_id, room_id, seq)
  select unnest(ins.mentions), ins.room_id, ins.seq from ins where ins.mentions is not null
)`,
};

/**
 * The group-commit statements, one per combination of the optional parts, so
 * a batch pays only for what it uses: the webhook outbox CTE (webhook-outbox.ts,
 * only while an endpoint subscribes to message.created), mention resolving
 * (only a batch with '@' candidates, see MentionsSql) and the thread pieces
 * (thread-sql.ts, only a batch that holds a reply). Each is prepared under its
 * own name.
 */
const APPEND_STATEMENTS = new Map<string, [string, string]>();
for (const outbox of [false, true]) {
  for (const mentions of [false, true]) {
    for (const threads of [false, true]) {
      const name = ['roomcast_append_batch', threads && 'threads', mentions && 'mentions', outbox && 'outbox'].filter(Boolean).join('_');
      APPEND_STATEMENTS.set(`${outbox}${mentions}${threads}`, [name, appendBatchSql(outbox ? MESSAGE_CREATED_OUTBOX_CTE : '', mentions ? WITH_MENTIONS : NO_MENTIONS, threads)]);
    }
  }
}

interface AppendRow {
  /** 1-based input position; null on stored rows, which carry user_id and client_msg_id instead, and on parent rows. */
  ord: string | number | null;
  /** 'parent': a replied-to message's new state (only from the statement with threads). */
  status: 'stored' | 'duplicate' | 'parent' | SendRefusal;
  id: string | null;
  seq: number | null;
  change: string | null;
  /** As the API writes it (ISO 8601, UTC, milliseconds), formatted by the statement: no Date per row. */
  created_at: string | null;
  user_id: string | null;
  client_msg_id: string | null;
  username: string | null;
  content: string | null;
  edited_at: Date | null;
  deleted_at: Date | null;
  mentions: string[] | null;
  reply_to_seq: number | null;
  reply_count: number | null;
  last_reply_at: Date | null;
  /** Parent rows only. */
  room_id: string | null;
  /** Reactions: a retry's stored message as its sender sees it; null on other rows. */
  reactions: Reaction[] | null;
}

/** The group-commit statement (and its prepared name) for a batch: with the webhook outbox CTE, with mention resolving, with threads. */
function appendStatement(outbox: boolean, mentions: boolean, threads: boolean): [string, string] {
  return APPEND_STATEMENTS.get(`${outbox}${mentions}${threads}`)!;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const WORD = /^[a-z]+$/;

/**
 * A column of values that need no quoting (uuids, role names) as one
 * PostgreSQL array literal, joined once, instead of pg's per-element quoting
 * and escaping (issue 18: ~5 % of the bytes a send allocated). Anything that
 * does not match goes to pg as an array, which quotes it (and the cast then
 * refuses it, as before).
 */
function arrayLiteral(values: string[], plain: RegExp): string | string[] {
  for (const value of values) if (!plain.test(value)) return values;
  return `{${values.join(',')}}`;
}

/** A parent's key: its room and seq. */
const parentKey = (roomId: string, seq: number) => `${roomId.toLowerCase()}\u0000${seq}`;

function toOutcome(row: AppendRow, entry: PendingMessage, parents: ReadonlyMap<string, Message>): AppendOutcome {
  switch (row.status) {
    case 'room_not_found':
    case 'kicked':
    case 'archived':
    case 'read_only':
    case 'muted':
    case 'parent_not_found':
      return { status: 'rejected', reason: row.status };
    case 'parent':
      throw new Error('a parent row has no send');
    case 'stored': {
      // A new message is what the sender sent plus what the commit numbered:
      // built once, straight from the send (issue 18: no row object, no Date).
      const message: Message = {
        id: row.id!,
        roomId: entry.roomId,
        seq: row.seq!,
        userId: entry.userId,
        username: entry.username,
        content: entry.content,
        clientMsgId: entry.clientMsgId,
        createdAt: row.created_at!,
        editedAt: null,
        deleted: false,
        change: Number(row.change),
        mentions: row.mentions ?? [],
        replyToSeq: entry.replyToSeq ?? null,
        replyCount: 0,
        lastReplyAt: null,
        reactions: [],
      };
      const parent = entry.replyToSeq !== undefined ? parents.get(parentKey(entry.roomId, entry.replyToSeq)) : undefined;
      return parent ? { status: 'stored', message, parent } : { status: 'stored', message };
    }
    case 'duplicate':
      // A retry answers the stored message as it is now (edited, deleted, replied to, reacted to).
      return {
        status: 'duplicate',
        message: toMessage({
          id: row.id!,
          room_id: entry.roomId,
          seq: row.seq!,
          user_id: entry.userId,
          username: row.username!,
          content: row.content!,
          client_msg_id: entry.clientMsgId,
          created_at: row.created_at!,
          edited_at: row.edited_at,
          deleted_at: row.deleted_at,
          change: row.change!,
          mentions: row.mentions,
          reply_to_seq: row.reply_to_seq,
          reply_count: row.reply_count!,
          last_reply_at: row.last_reply_at,
          reactions: row.reactions,
        }),
      };
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
/** The message and its room, as a change's rules read them (unlocked: a pre-check; see `peekChange`). */
const CHANGE_CONTEXT_READ_SQL = `
select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
       m.mentions,
       m.reply_to_seq, m.reply_count, m.last_reply_at,
       r.visibility, r.read_only, r.archived
  from messages m
  join users u on u.id = m.user_id
  join rooms r on r.id = m.room_id
 where m.id = ?`;

export const CHANGE_CONTEXT_SQL = `${CHANGE_CONTEXT_READ_SQL}
   for update of m
   for no key update of r`;

/**
 * The change itself: the room's next change number and the message's new
 * state, in one statement; reactions as the actor sees them (last binding).
 */
const changeSql = (set: string) => `
with bumped as (
  update rooms set last_change = last_change + 1 where id = ? returning last_change
)
update messages m set ${set}, change = bumped.last_change
  from bumped
 where m.id = ?
returning m.id, m.room_id, m.seq, m.user_id, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
          m.mentions,
          m.reply_to_seq, m.reply_count, m.last_reply_at,

          ${reactionsColumn('m')}`;
const EDIT_SQL = changeSql('content = ?, edited_at = now()');
const DELETE_SQL = changeSql("content = '', deleted_at = now()");

/**
 * One page of a room's change log: the current state of the messages whose
 * latest change is after `after` (and at most `upTo`, or the room's
 * last_change), in change order, read in one statement with the room's
 * last_change so both come from one snapshot. No row: no such room.
 */
const CHANGES_SQL = `
select r.last_change as room_last_change, r.pruned_change as room_pruned_change, r.oldest_seq as room_oldest_seq,
       ${MEMBER_CHANGES_JSON_SQL} as member_changes,
       m.id, m.room_id, m.seq, m.user_id, m.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
       m.mentions,
       m.reply_to_seq, m.reply_count, m.last_reply_at,
       m.reactions, m.last_reaction
  from rooms r
  left join lateral (
    select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
           m.mentions,
           m.reply_to_seq, m.reply_count, m.last_reply_at,
           ${reactionsColumn('m')}, m.last_reaction
      from messages m
      join users u on u.id = m.user_id
     where m.room_id = r.id and m.change > ?::bigint and m.change <= coalesce(?::bigint, r.last_change)
     order by m.change
     limit ?
  ) m on true
 where r.id = ?`;

/** messages.last_reaction: the message's latest reaction change (reactions, issue 14). */
type LastReactionRow = ReactionChange & { change: number | string };
type ChangesMessageRow = MessageRow & { last_reaction: LastReactionRow | null };
type ChangesRow = { room_last_change: string; room_pruned_change: string; room_oldest_seq: number; member_changes: Parameters<typeof memberChangesFromJson>[0] } & ({ [K in keyof ChangesMessageRow]: null } | ChangesMessageRow);

/** A change-log page for delivery, with what each reaction change in it was (see MessageStore.deliveryChanges). */
export interface DeliveryChangesPage extends ChangesPage {
  /** By change number: the rows whose latest change is a reaction. */
  reactions: Map<number, ReactionChange>;
}

/**
 * A change-log page with where retention (issue 19) left the room, read in
 * the same statement: `prunedChange`, the highest change number retention
 * deleted (a page from before it misses changes for good), and `oldestSeq`.
 */
export interface RetainedChangesPage {
  page: ChangesPage;
  prunedChange: number;
  oldestSeq: number;
}

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
    // Mentions: only a batch with '@' candidates runs the statement that resolves them.
    const mentions = entries.some((e) => e.mentionNames?.length) ? entries.map((e) => e.mentionNames?.join(' ') ?? '') : null;
    // Replies (issue 14): only a batch that holds one runs the statement with threads.
    const threads = entries.some((e) => e.replyToSeq !== undefined);
    const [name, sql] = appendStatement(outbox, mentions !== null, threads);
    const rows = await this.run<AppendRow>(name, sql, [
      arrayLiteral(entries.map((e) => e.roomId), UUID),
      arrayLiteral(entries.map((e) => e.userId), UUID),
      entries.map((e) => e.content),
      arrayLiteral(entries.map((e) => e.clientMsgId), UUID),
      arrayLiteral(entries.map((e) => e.role), WORD),
      ...(mentions ? [mentions] : []),
      ...(threads ? [entries.map((e) => e.replyToSeq ?? null) as Knex.RawBinding] : []),
      arrayLiteral([...new Set(entries.map((e) => e.roomId))], UUID),
    ]);
    const parents = new Map<string, Message>();
    for (const row of rows) {
      if (row.status !== 'parent') continue;
      parents.set(parentKey(row.room_id!, row.seq!), toMessage({ ...(row as AppendRow & MessageRow), room_id: row.room_id!, reply_count: row.reply_count! }));
    }
    for (const row of rows) {
      if (row.status === 'parent') continue;
      const index = row.ord === null ? firstIndexOf.get(pairKey(row.user_id!, row.client_msg_id!))! : fresh[Number(row.ord) - 1]!;
      outcomes[index] = toOutcome(row, batch[index]!, parents);
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
  async history(roomId: string, options: HistoryOptions, viewerId: string | null = null): Promise<HistoryPage> {
    return this.withOldestSeq(roomId, await this.seqPage(this.withReactions(viewerId).where('messages.room_id', roomId), options));
  }

  /**
   * A thread (issue 14): the replies to the message `parentSeq` of a room, by
   * the same seq window as history (oldest first); a range scan of the
   * partial index messages_thread (room_id, reply_to_seq, seq).
   */
  async replies(roomId: string, parentSeq: number, options: HistoryOptions, viewerId: string | null = null): Promise<HistoryPage> {
    return this.withOldestSeq(roomId, await this.seqPage(this.withReactions(viewerId).where('messages.room_id', roomId).where('messages.reply_to_seq', parentSeq), options));
  }

  /**
   * Retention (issue 19): the room's first kept seq, read AFTER the page, so
   * it is never below the page's first seq when a cut met the page (retention
   * only raises it): a client takes a page starting at or below oldestSeq as
   * the cut, not as a gap.
   */
  private async withOldestSeq(roomId: string, page: HistoryPage): Promise<HistoryPage> {
    const room = (await this.knex('rooms').where('id', roomId).first('oldest_seq')) as { oldest_seq: number } | undefined;
    return room ? { ...page, oldestSeq: room.oldest_seq } : page;
  }

  /** Messages with their reactions as `viewerId` sees them (`me`; null: me false). */
  private withReactions(viewerId: string | null): Knex.QueryBuilder {
    return this.selectMessages(this.knex).select(this.knex.raw(reactionsColumn('messages'), [viewerId]));
  }

  private async seqPage(base: Knex.QueryBuilder, options: HistoryOptions): Promise<HistoryPage> {
    // seq is an int4 column: a bound past its range means the same as its
    // largest value, and PostgreSQL would refuse the comparison (an internal error).
    const clamp = (seq: number) => Math.min(seq, MAX_SEQ);
    const query = base.limit(options.limit + 1);
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
      const read = await this.changeContext(trx, messageId, userId, true);
      if (!read) return null;
      const { row } = read;
      const decision = decide(read.context);
      const { rows: changed } = (
        change.kind === 'edit'
          ? await trx.raw(EDIT_SQL, [row.room_id, change.content, messageId, userId])
          : await trx.raw(DELETE_SQL, [row.room_id, messageId, userId])
      ) as { rows: Omit<MessageRow, 'username'>[] };
      const message = toMessage({ ...changed[0]!, username: row.username });
      // Mentions: a deleted message counts in no one's mentionCount (which then reads message_mentions alone).
      if (change.kind === 'delete' && row.mentions) await trx('message_mentions').where({ room_id: row.room_id, seq: row.seq }).del();
      // Webhooks: the change's event commits with it.
      await enqueueEvents(trx, this.webhooks, [{ type: change.kind === 'edit' ? 'message.updated' : 'message.deleted', roomId: message.roomId, data: message }]);
      return { message, decision };
    });
  }

  /**
   * What `change` will judge, read now without a transaction or lock: lets
   * the domain refuse a change before slow work done outside the
   * transaction (the before-publish hook of an edit). `change` reads it
   * again under its locks and judges that. Null: there is no such message.
   */
  async peekChange(messageId: string, userId: string): Promise<MessageChangeContext | null> {
    return (await this.changeContext(this.knex, messageId, userId, false))?.context ?? null;
  }

  /** The message, its room, and the user's membership and mute; `locked`: inside `change`'s transaction, with its locks. */
  private async changeContext(db: Knex | Knex.Transaction, messageId: string, userId: string, locked: boolean): Promise<{ row: ChangeContextRow; context: MessageChangeContext } | null> {
    const { rows } = (await db.raw(locked ? CHANGE_CONTEXT_SQL : CHANGE_CONTEXT_READ_SQL, [messageId])) as { rows: ChangeContextRow[] };
    const row = rows[0];
    if (!row) return null;
    const members = db('room_members').where({ room_id: row.room_id, user_id: userId });
    const membership = await (locked ? members.forShare() : members).first('user_id');
    const mute = await db('mutes').where({ room_id: row.room_id, user_id: userId }).where('expires_at', '>', db.fn.now()).first('user_id');
    return {
      row,
      context: {
        message: toMessage(row),
        room: { visibility: row.visibility, readOnly: row.read_only, archived: row.archived },
        member: membership !== undefined,
        muted: mute !== undefined,
      },
    };
  }

  /**
   * A page of the room's change log (issue 13): the current state of every
   * message whose latest change is in (after, upTo], by change ascending; a
   * deleted message as its tombstone. Null: there is no such room.
   */
  async changes(roomId: string, window: ChangesWindow, viewerId: string | null = null): Promise<ChangesPage | null> {
    return (await this.readChanges(roomId, window, viewerId))?.page ?? null;
  }

  /** `changes` with where retention left the room (see RetainedChangesPage). Null: there is no such room. */
  async retainedChanges(roomId: string, window: ChangesWindow, viewerId: string | null = null): Promise<RetainedChangesPage | null> {
    const read = await this.readChanges(roomId, window, viewerId);
    return read ? { page: read.page, prunedChange: read.prunedChange, oldestSeq: read.oldestSeq } : null;
  }

  /**
   * `changes` for a node filling a delivery gap: no viewer (reactions read
   * me: false), plus what each row's latest reaction change was, so the
   * node emits the same `message:reaction` as a live delivery.
   */
  async deliveryChanges(roomId: string, window: ChangesWindow): Promise<DeliveryChangesPage | null> {
    const read = await this.readChanges(roomId, window, null);
    if (!read) return null;
    const reactions = new Map<number, ReactionChange>();
    for (const { change, last_reaction: last } of read.rows) {
      if (last && Number(last.change) === Number(change)) reactions.set(Number(change), { emoji: last.emoji, userId: last.userId, added: last.added });
    }
    return { ...read.page, reactions };
  }

  private async readChanges(roomId: string, window: ChangesWindow, viewerId: string | null) {
    const upTo = window.upTo ?? null;
    // In the statement's order: the membership changes' subquery, then the messages' (reactions for the viewer).
    const bindings = [roomId, window.after, upTo, roomId, window.limit + 1, viewerId, window.after, upTo, window.limit + 1, roomId];
    const { rows } = (await this.knex.raw(CHANGES_SQL, bindings)) as { rows: ChangesRow[] };
    const first = rows[0];
    if (!first) return null;
    const messages = rows.filter((row): row is ChangesRow & ChangesMessageRow => row.id !== null);
    const members = memberChangesFromJson(first.member_changes);
    // Issue 14: messages and membership changes share the page's `limit`, in change order.
    const entries = [...messages.map((m) => Number(m.change)), ...members.map((m) => m.change)].sort((a, b) => a - b);
    const hasMore = entries.length > window.limit;
    const last = hasMore ? entries[window.limit - 1]! : Number.POSITIVE_INFINITY;
    const kept = messages.filter((m) => Number(m.change) <= last);
    const inWindow = members.filter((m) => m.change <= last);
    // `members` only when there are some: a page of a room without membership changes is the page it always was.
    const page: ChangesPage = { changes: kept.map(toMessage), hasMore, lastChange: Number(first.room_last_change), ...(inWindow.length ? { members: inWindow } : {}) };
    return { rows: kept, page, prunedChange: Number(first.room_pruned_change), oldestSeq: first.room_oldest_seq };
  }

  private selectMessages(db: Knex | Knex.Transaction) {
    return db('messages').join('users', 'users.id', 'messages.user_id').select(MESSAGE_COLUMNS);
  }
}
