import type { SendRefusal } from '../../db/stores/message-store.js';
import { AppError } from '../errors.js';
import type { ErrorCode, Message } from '../protocol.js';
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
 *  5. a user muted in the room, admin or not, may not send (`muted`).
 * Sending needs visibility, not a room:join.
 *
 * Editing and deleting (assertMayChange): a message that exists and is not
 * deleted, by its author or an admin; room state (archived, read-only, mute)
 * does not apply to them.
 */

/** Why a message action was refused. */
export type Refusal = SendRefusal | 'message_not_found' | 'not_author';

/** The catalogue: each refusal's contract code and the text the user sees. */
const REFUSALS: Readonly<Record<Refusal, readonly [ErrorCode, string]>> = {
  room_not_found: ['not_found', 'room not found'],
  kicked: ['forbidden', 'you were kicked from this room; try again later'],
  archived: ['read_only', 'room is archived'],
  read_only: ['read_only', 'room is read-only'],
  muted: ['muted', 'you are muted in this room'],
  message_not_found: ['not_found', 'message not found'],
  not_author: ['forbidden', 'only the author or an admin may change a message'],
};

/** The AppError a refusal answers. */
export function refusal(reason: Refusal): AppError {
  const [code, text] = REFUSALS[reason];
  return new AppError(code, text);
}

/** Throws unless the actor may edit or delete the message (null: there is none). */
export function assertMayChange(actor: Actor, message: Message | null): asserts message is Message {
  if (!message || message.deleted) throw refusal('message_not_found');
  if (message.userId !== actor.userId && actor.role !== 'admin') throw refusal('not_author');
}
