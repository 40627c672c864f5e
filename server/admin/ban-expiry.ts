import type { UserStore } from '../../db/stores/user-store.js';
import type { Logger } from '../logger.js';

/**
 * Lifts timed bans whose end has passed, so the stored `banned` flag and the
 * audit log catch up with what the token check already knows (an expired ban
 * is no ban, see auth/ban.ts). Every node sweeps; the store lifts and audits
 * each ban in one statement under row locks, so exactly one node does it.
 */
export class BanExpiry {
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly users: Pick<UserStore, 'liftExpiredBans'>,
    private readonly logger: Logger,
  ) {}

  /** One sweep; resolves with the ids of the users this node lifted. */
  async sweep(): Promise<string[]> {
    const lifted = await this.users.liftExpiredBans();
    if (lifted.length) this.logger.info('timed bans lifted', { userIds: lifted });
    return lifted;
  }

  /** Sweeps every `intervalMs` until stop(); a failed sweep is logged and tried again next time. */
  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.logger.warn('ban expiry sweep failed', { err }));
    }, intervalMs);
    // The sweep must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
