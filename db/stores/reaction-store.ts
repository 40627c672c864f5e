import type { Knex } from 'knex';
import type { Message, ReactionChange, ReactionWebhookData, RoomVisibility } from '../../server/protocol.js';
import { CHANGE_CONTEXT_SQL, type MessageChangeContext } from './message-store.js';
import { reactionsColumn } from './reaction-sql.js';
import { toMessage, type MessageRow } from './row-mappers.js';
import { enqueueEvents, OPEN_GATE, type OutboxGate } from './webhook-outbox.js';

/**
 * What the reaction rules need (server/messages/message-rules.ts judges it),
 * read under the change's locks: the message row FOR UPDATE, so reactions on
 * one message are counted and changed one transaction after the other.
 */
export interface ReactionContext extends MessageChangeContext {
  /** The user's kick from the room is still blocking them. */
  kicked: boolean;
  /** Distinct emojis on the message now. */
  emojis: number;
  /** Someone (anyone) has reacted with this emoji already. */
  present: boolean;
  /** The user has reacted with this emoji already. */
  mine: boolean;
}

const FACTS_SQL = `
select exists(select 1 from mutes where room_id = ? and user_id = ? and expires_at > now()) as muted,
       exists(select 1 from room_kicks where room_id = ? and user_id = ? and until > now()) as kicked,
       (select count(distinct emoji)::int from message_reactions where message_id = ?) as emojis,
       exists(select 1 from message_reactions where message_id = ? and emoji = ?) as present,
       exists(select 1 from message_reactions where message_id = ? and emoji = ? and user_id = ?) as mine`;

/** The reaction's change number, and what it was, on the message (messages.last_reaction; see the migration). */
const BUMP_SQL = `
with bumped as (
  update rooms set last_change = last_change + 1 where id = ? returning last_change
)
update messages m set change = bumped.last_change,
       last_reaction = jsonb_build_object('change', bumped.last_change, 'emoji', ?::text, 'userId', ?::text, 'added', ?::boolean)
  from bumped
 where m.id = ?`;

/** The message as the user sees it after the change (reactions with their `me`). */
const MESSAGE_SQL = `
select m.id, m.room_id, m.seq, m.user_id, u.username, m.content, m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.change,
       ${reactionsColumn('m')}
  from messages m
  join users u on u.id = m.user_id
 where m.id = ?`;

type ContextRow = MessageRow & { visibility: RoomVisibility; read_only: boolean; archived: boolean };
interface FactsRow {
  muted: boolean;
  kicked: boolean;
  emojis: number;
  present: boolean;
  mine: boolean;
}

export interface ReactionOutcome<T> {
  message: Message;
  decision: T;
  /** False when nothing changed (the emoji was there already, or was not there to remove): no change number, nothing to publish. */
  changed: boolean;
}

/** Adds and removes reactions; each one that changes something is a change of its message (rooms.last_change). */
export class ReactionStore {
  constructor(
    private readonly knex: Knex,
    /** Whether some webhook endpoint may want `message.reaction` (without one, no outbox statement runs). */
    private readonly webhooks: OutboxGate = OPEN_GATE,
  ) {}

  /**
   * Adds (`change.added`) or removes the user's emoji on a message if
   * `decide` lets it, in ONE transaction: the message row locked FOR UPDATE,
   * its room FOR NO KEY UPDATE (as MessageStore.change), the membership FOR
   * SHARE; then `decide` judges and throws to refuse. A change that changes
   * nothing takes no change number, nor a webhook event; one that changes
   * something writes its `message.reaction` event to the webhook outbox in
   * the same transaction. Null: there is no such message.
   */
  async apply<T>(messageId: string, change: ReactionChange, decide: (context: ReactionContext) => T): Promise<ReactionOutcome<T> | null> {
    const { emoji, userId, added } = change;
    return this.knex.transaction(async (trx) => {
      const { rows } = (await trx.raw(CHANGE_CONTEXT_SQL, [messageId])) as { rows: ContextRow[] };
      const row = rows[0];
      if (!row) return null;
      const roomId = row.room_id;
      const membership = await trx('room_members').where({ room_id: roomId, user_id: userId }).forShare().first('user_id');
      const { rows: facts } = (await trx.raw(FACTS_SQL, [roomId, userId, roomId, userId, messageId, messageId, emoji, messageId, emoji, userId])) as { rows: FactsRow[] };
      const fact = facts[0]!;
      const decision = decide({
        message: toMessage(row),
        room: { visibility: row.visibility, readOnly: row.read_only, archived: row.archived },
        member: membership !== undefined,
        muted: fact.muted,
        kicked: fact.kicked,
        emojis: fact.emojis,
        present: fact.present,
        mine: fact.mine,
      });
      const changed = added !== fact.mine;
      if (changed) {
        if (added) await trx('message_reactions').insert({ message_id: messageId, emoji, user_id: userId });
        else await trx('message_reactions').where({ message_id: messageId, emoji, user_id: userId }).delete();
        await trx.raw(BUMP_SQL, [roomId, emoji, userId, added, messageId]);
      }
      const { rows: after } = (await trx.raw(MESSAGE_SQL, [userId, messageId])) as { rows: MessageRow[] };
      const message = toMessage(after[0]!);
      if (changed) {
        const data: ReactionWebhookData = {
          roomId,
          messageId,
          seq: message.seq,
          change: message.change,
          emoji,
          userId,
          action: added ? 'added' : 'removed',
          reactions: (message.reactions ?? []).map(({ emoji: e, count }) => ({ emoji: e, count })),
        };
        // Webhooks: the reaction's event commits with it.
        await enqueueEvents(trx, this.webhooks, [{ type: 'message.reaction', roomId, data }]);
      }
      return { message, decision, changed };
    });
  }
}
