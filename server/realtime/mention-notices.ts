import type { CommittedChange } from '../protocol.js';
import { userChannel } from './channels.js';
import type { ChatNamespace } from './types.js';

/**
 * Mentions (issue 14): `mention` to this node's sockets of each user a new
 * message mentions, joined to its room or not. Every node runs this for every
 * committed batch (its own and those the adapter brought), each for its own
 * sockets only (`local`), so each socket hears a mention once. Edits and
 * deletions mention no one anew.
 */
export function emitMentions(chat: ChatNamespace, batch: readonly CommittedChange[]): void {
  for (const item of batch) {
    if ('member' in item) continue;
    const { message, kind } = item;
    // `?.`: a node of the previous version sends messages without the field.
    if (!message.mentions?.length || (kind !== undefined && kind !== 'new')) continue;
    const event = { roomId: message.roomId, seq: message.seq, messageId: message.id };
    for (const userId of message.mentions) chat.local.to(userChannel(userId)).emit('mention', event);
  }
}
