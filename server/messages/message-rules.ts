import type { MessageChangeContext, SendRefusal } from '../../db/stores/message-store.js';
import type { ReactionContext } from '../../db/stores/reaction-store.js';
import { AppError } from '../errors.js';
import type { ErrorCode } from '../protocol.js';
import type { Actor } from '../rooms/room-service.js';

/**
 * Who may send, edit and delete messages where. A change of these rules is
 * made here; the texts users see come from REFUSALS below and nowhere else.
 *
 * Sending is checked by the commit itself (MessageStore.appendBatch), under
 * the room's row lock, so that a mute, an archiving or a removal from a
 * private room that commits meanwhile cannot be raced. In this order:
 *  1. the room must exist and be visible: a private room to its members and
 *     admins only (`room_not_found` otherwise: hidden looks like absent);
 *  2. a user kicked from the room sends nothing there until the kick's block
 *     ends (`kicked`; the join side is server/rooms/room-access.ts);
 *  3. an archived room takes no messages, from anyone (`archived`);
 *  4. a read-only room takes messages from admins only (`read_only`);
 *  5. a user muted in the room, admin or not, may not send (`muted`);
 *  6. a reply (`replyToSeq`) needs its parent: a message of the same room,
 *     not deleted (`parent_not_found`, answered `not_found`: a missing seq,
 *     a tombstone and another room's message look alike).
 * Sending needs visibility, not a room:join.
 *
 * Editing and deleting (judgeChange) are judged inside the change's
 * transaction (MessageStore.change), with the message's room, the caller's
 * membership and mute read under locks. In this order:
 *  1. the message must exist, not be deleted, and be in a room the caller
 *     can see (`message_not_found` otherwise: a message in a private room
 *     one is not (or no longer) a member of looks exactly like no message);
 *  2. a member may change only their own messages (`not_author`);
 *  3. a member may not edit or delete in an archived room (`archived`),
 *     nor edit in a read-only room (`read_only`) or while muted in the room
 *     (`muted`); deleting one's own message in a read-only room or while
 *     muted is allowed (it takes words away, it adds none);
 *  4. admins may do all of these. An admin's change that a member could not
 *     have made (another user's message, or past rule 3) is moderation, and
 *     every deletion by an admin is audited as well.
 *
 * Reacting and unreacting (judgeReaction, issue 14) are judged inside the
 * reaction's transaction (ReactionStore.apply), with the message row locked,
 * for admins and members alike except for rule 1. In this order:
 *  1. the message must exist in a room the caller can see
 *     (`message_not_found`, as for changes);
 *  2. not on a deleted message (`message_deleted`);
 *  3. not while kicked from the room (`kicked`), not in an archived room
 *     (`archived`); a read-only room takes reactions (they add no words);
 *  4. adding: not while muted in the room (`muted`: removing one's own
 *     reaction is allowed, it takes away), and not a new emoji on a message
 *     that holds `maxEmojis` distinct ones already (`too_many_reactions`).
 * Reacting with an emoji one has already added, or removing one not added,
 * is allowed and changes nothing.
 */

/** Why a message action was refused. */
export type Refusal = SendRefusal | 'message_not_found' | 'not_author' | 'message_deleted' | 'too_many_reactions';

/** The catalogue: each refusal's contract code and the text the user sees. */
const REFUSALS: Readonly<Record<Refusal, readonly [ErrorCode, string]>> = {
  room_not_found: ['not_found', 'room not found'],
  kicked: ['forbidden', 'you were kicked from this room; try again later'],
  archived: ['read_only', 'room is archived'],
  read_only: ['read_only', 'room is read-only'],
  muted: ['muted', 'you are muted in this room'],
  parent_not_found: ['not_found', 'the message replied to does not exist in this room or was deleted'],
  message_not_found: ['not_found', 'message not found'],
  not_author: ['forbidden', 'only the author or an admin may change a message'],
  message_deleted: ['not_found', 'message was deleted'],
  too_many_reactions: ['conflict', 'this message holds as many different emojis as it may; react with one of those'],
};

/** The AppError a refusal answers. */
export function refusal(reason: Refusal): AppError {
  const [code, text] = REFUSALS[reason];
  return new AppError(code, text);
}

export type ChangeKind = 'edit' | 'delete';

/** What an allowed change means beyond itself. */
export interface ChangeVerdict {
  /** The change goes in the audit trail (message_edit / message_delete). */
  audited: boolean;
  /** The room rule of step 3 an admin's change went past, if any. */
  overrode: Extract<Refusal, 'archived' | 'read_only' | 'muted'> | null;
}

/** The room rule (step 3) that refuses a member's change of their own message, if any. */
function roomRuleAgainst(kind: ChangeKind, { room, muted }: MessageChangeContext): ChangeVerdict['overrode'] {
  if (room.archived) return 'archived';
  if (kind === 'delete') return null;
  if (room.readOnly) return 'read_only';
  return muted ? 'muted' : null;
}

/**
 * Throws the refusal unless the actor may make this change; otherwise says
 * whether it is audited. (A message that does not exist is `message_not_found`.)
 */
export function judgeChange(actor: Actor, kind: ChangeKind, context: MessageChangeContext): ChangeVerdict {
  if (context.message.deleted) throw refusal('message_not_found');
  const admin = actor.role === 'admin';
  if (context.room.visibility === 'private' && !admin && !context.member) throw refusal('message_not_found');
  const own = context.message.userId === actor.userId;
  const overrode = roomRuleAgainst(kind, context);
  if (!admin) {
    if (!own) throw refusal('not_author');
    if (overrode) throw refusal(overrode);
    return { audited: false, overrode: null };
  }
  return { audited: kind === 'delete' || !own || overrode !== null, overrode };
}

/** Throws the refusal unless the actor may add (`added`) or remove this reaction (rules above). */
export function judgeReaction(actor: Actor, added: boolean, context: ReactionContext, maxEmojis: number): void {
  if (context.room.visibility === 'private' && actor.role !== 'admin' && !context.member) throw refusal('message_not_found');
  if (context.message.deleted) throw refusal('message_deleted');
  if (context.kicked) throw refusal('kicked');
  if (context.room.archived) throw refusal('archived');
  if (!added) return;
  if (context.muted) throw refusal('muted');
  if (!context.mine && !context.present && context.emojis >= maxEmojis) throw refusal('too_many_reactions');
}
