import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';

const COST = 10;
let dummyHash: Promise<string> | null = null;

/** Hashes a password (bcrypt, cost 10, asynchronous: the event loop keeps serving). */
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

/**
 * Checks a password against a hash. With no hash (an unknown login) it still
 * runs one comparison, so an unknown login takes as long as a wrong password.
 */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  if (hash) return bcrypt.compare(password, hash);
  dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), COST);
  await bcrypt.compare(password, await dummyHash);
  return false;
}
