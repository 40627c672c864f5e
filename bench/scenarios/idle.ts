// (c) many idle authenticated sockets: server memory per socket and how long
// they take to connect (each with a JWT checked against the database).
import { connectMany } from '../load.js';
import { rssBytes } from '../../test/support/rss.js';
import type { Sizes } from '../sizes.js';
import type { Target } from '../targets.js';

export interface IdleResult {
  sockets: number;
  connectSeconds: number;
  connectsPerSec: number;
  rssBeforeBytes: number | null;
  rssAfterBytes: number | null;
  rssPerSocketBytes: number | null;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runIdle(target: Target, sizes: Sizes['idle']): Promise<IdleResult> {
  const accounts = await target.createAccounts(sizes.users);
  // Every process of the server: with --workers N, the primary and its workers.
  const rss = () => target.nodes[0]!.pids().reduce<number | null>((sum, pid) => {
    const bytes = rssBytes(pid);
    return sum === null || bytes === null ? null : sum + bytes;
  }, 0);
  await settle(1_000);
  const before = rss();
  const { clients, seconds } = await connectMany(target, 0, accounts, sizes.sockets, undefined, 200);
  try {
    // Long enough for V8's memory reducer to collect the garbage of connecting (it acts after a few idle seconds).
    await settle(10_000);
    const after = rss();
    return {
      sockets: clients.length,
      connectSeconds: Math.round(seconds * 100) / 100,
      connectsPerSec: Math.round(clients.length / seconds),
      rssBeforeBytes: before,
      rssAfterBytes: after,
      rssPerSocketBytes: before !== null && after !== null ? Math.round((after - before) / clients.length) : null,
    };
  } finally {
    for (const client of clients) client.close();
  }
}
