import type { ReadReceiptEvent, ReadUpdatedEvent } from '../protocol.js';
import type { ReadNotifier } from '../rooms/read-state.js';
import { roomChannel, userChannel } from './channels.js';
import { CoalescingThrottle } from './coalescing-throttle.js';
import type { ChatNamespace } from './types.js';

/** One receipt per user per room per this many ms at most (the last value wins). */
export const RECEIPT_WINDOW_MS = 1_000;

/**
 * Read state news for /chat sockets. `read:updated` goes through the user's
 * Socket.IO room, so the adapter takes it to their sockets on every node.
 * Receipts are throttled on the node where the read arrived: a user reading
 * through two nodes at once may send up to one receipt a second from each.
 */
export class SocketReadNotifier implements ReadNotifier {
  readonly #receipts: CoalescingThrottle<ReadReceiptEvent>;

  constructor(
    private readonly chat: ChatNamespace,
    windowMs = RECEIPT_WINDOW_MS,
  ) {
    this.#receipts = new CoalescingThrottle(windowMs, (event) => this.chat.to(roomChannel(event.roomId)).emit('read:receipt', event));
  }

  readUpdated(userId: string, event: ReadUpdatedEvent, exceptSocketId: string | null): void {
    const target = this.chat.to(userChannel(userId));
    (exceptSocketId ? target.except(exceptSocketId) : target).emit('read:updated', event);
  }

  receipt(event: ReadReceiptEvent): void {
    this.#receipts.push(`${event.roomId}\u0000${event.userId}`, event);
  }

  /** At shutdown: pending receipts are dropped (read state itself is stored). */
  close(): void {
    this.#receipts.close();
  }
}
