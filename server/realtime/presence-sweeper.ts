import type { Logger } from '../logger.js';
import { roomChannel } from './channels.js';
import type { PresenceStore } from './presence.js';
import type { ChatNamespace } from './types.js';

/** How often this node's presence entries are compared with its live sockets. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * A backstop against ghost presence: every so often, removes this node's
 * presence entries whose socket is no longer connected (a leave or
 * disconnect that failed, e.g. Redis away at that moment) and announces users
 * left with none. Other nodes' entries are theirs to sweep (and a dead node's
 * are swept by the Redis store itself).
 */
export class PresenceSweeper {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly chat: ChatNamespace,
    private readonly presence: PresenceStore,
    private readonly logger: Logger,
    intervalMs = SWEEP_INTERVAL_MS,
  ) {
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** One sweep; skipped while the previous one still runs. */
  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const gone = await this.presence.sweep((socketId) => this.chat.sockets.has(socketId));
      for (const { roomId, user } of gone) this.chat.to(roomChannel(roomId)).emit('presence', { roomId, ...user, online: false });
      if (gone.length > 0) this.logger.info('swept presence of sockets that are gone', { users: gone.length });
    } catch (err) {
      this.logger.warn('presence sweep failed', { err });
    } finally {
      this.running = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
