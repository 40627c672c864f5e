/**
 * Where the server is: one base URL, a list to fail over through (in order,
 * wrapping round), or a function asked for a URL at each failover.
 */
export type UrlOption = string | readonly string[] | ((attempt: number) => string);

/** The current server base URL, and moving to the next one when it fails. */
export class Endpoints {
  #attempt = 0;
  #current: string;

  constructor(private readonly option: UrlOption) {
    if (Array.isArray(option) && option.length === 0) throw new TypeError('url: the list is empty');
    this.#current = this.#resolve();
  }

  /** The base URL in use (no trailing slash). */
  current(): string {
    return this.#current;
  }

  /** Moves on to the next URL (after the current one failed) and returns it. */
  next(): string {
    this.#attempt += 1;
    this.#current = this.#resolve();
    return this.#current;
  }

  /** How many distinct URLs are worth trying in a row (1 for a function). */
  get size(): number {
    return Array.isArray(this.option) ? this.option.length : 1;
  }

  #resolve(): string {
    const option = this.option;
    const url = typeof option === 'string' ? option : typeof option === 'function' ? option(this.#attempt) : option[this.#attempt % option.length];
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError(`url: not an http(s) URL: ${String(url)}`);
    return url.replace(/\/+$/, '');
  }
}
