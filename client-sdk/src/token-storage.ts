/**
 * Where native refresh mode keeps the refresh token (a keychain, secure
 * storage, a file). The default keeps it in memory only.
 */
export interface TokenStorage {
  get(): string | null | Promise<string | null>;
  set(token: string | null): void | Promise<void>;
}

/** Keeps the refresh token in memory for the life of the client. */
export class MemoryTokenStorage implements TokenStorage {
  #token: string | null;

  constructor(token: string | null = null) {
    this.#token = token;
  }

  get(): string | null {
    return this.#token;
  }

  set(token: string | null): void {
    this.#token = token;
  }
}
