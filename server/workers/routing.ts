import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** The IPC message a worker gets with each connection the primary hands over. */
export const CONNECTION_MESSAGE = 'roomcast:connection';
/** The IPC message a worker sends once it serves. */
export const READY_MESSAGE = 'roomcast:ready';

export const isMessage = (message: unknown, kind: string): boolean =>
  typeof message === 'object' && message !== null && (message as { roomcast?: unknown }).roomcast === kind;

/**
 * The worker (0…count-1) that serves every connection from `address`. By the
 * client's address alone, so all of one client's connections — each
 * long-polling request of a session, its WebSocket upgrade, its reconnects —
 * reach the worker that holds its session, without the primary reading a
 * byte (docs/operations.md "All cores of one box" says why not by sid).
 * An IPv4 address seen as IPv4-mapped IPv6 counts as itself.
 */
export function workerFor(address: string | undefined, count: number): number {
  if (count <= 1 || !address) return 0;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return createHash('sha1').update(plain).digest().readUInt32BE(0) % count;
}
