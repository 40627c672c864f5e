/**
 * A token bucket per room for one socket's `typing` events: `limit` events
 * per `windowMs`, refilled evenly. In memory on purpose: typing is the most
 * frequent event and what it protects is this node's fan-out volume, so a
 * Redis round trip per keystroke would cost more than it saves. A user with
 * several sockets (or on several nodes) gets a bucket per socket; the
 * per-user socket cap bounds that.
 */
export class TypingLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `limit` 0: every event passes. */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Takes a token for the room; false when the bucket is empty (drop the event). */
  allow(roomId: string, now = Date.now()): boolean {
    if (this.limit === 0) return true;
    const bucket = this.buckets.get(roomId) ?? { tokens: this.limit, at: now };
    bucket.tokens = Math.min(this.limit, bucket.tokens + ((now - bucket.at) * this.limit) / this.windowMs);
    bucket.at = now;
    this.buckets.set(roomId, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** The socket left the room: its bucket goes (the map stays as small as the socket's rooms). */
  forget(roomId: string): void {
    this.buckets.delete(roomId);
  }
}
