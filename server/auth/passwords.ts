import { randomBytes } from 'node:crypto';
import type { PasswordPool } from './password-pool.js';

/**
 * Password hashing (bcrypt, cost BCRYPT_COST: 10 unless configured) in the
 * password pool's worker threads, so sign-ins never block the event loop that
 * fans out messages.
 */
export class Passwords {
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly pool: PasswordPool,
    private readonly cost: number,
  ) {}

  /** Hashes a new account's password; it waits behind sign-ins for a thread (see PasswordPool). */
  hash(password: string): Promise<string> {
    return this.pool.hash(password, this.cost, 'sign-up');
  }

  /**
   * Checks a password against a hash. With no hash (an unknown login) it still
   * runs one comparison, so an unknown login takes as long as a wrong password.
   */
  async verify(password: string, hash: string | null): Promise<boolean> {
    if (hash) return this.pool.compare(password, hash);
    this.dummyHash ??= this.pool.hash(randomBytes(16).toString('hex'), this.cost);
    await this.pool.compare(password, await this.dummyHash);
    return false;
  }
}
