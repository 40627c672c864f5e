/**
 * Where native refresh mode keeps the refresh token (a keychain, secure
 * storage, a file). The default keeps it in memory only.
 */
export interface TokenStorage {
  /** The stored refresh token, or null. */
  get(): string | null | Promise<string | null>;
  /** Stores a rotated refresh token; null forgets it (logout, refused renewal). */
  set(token: string | null): void | Promise<void>;
}

/** Keeps the refresh token in memory for the life of the client. */
export class MemoryTokenStorage implements TokenStorage {
  #token: string | null;

  constructor(token: string | null = null) {
    this.#token = token;
  }

  /** The refresh token held in memory. */
  get(): string | null {
    return this.#token;
  }

  /** Replaces the refresh token held in memory. */
  set(token: string | null): void {
    this.#token = token;
  }
}
