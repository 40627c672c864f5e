// (c) many idle authenticated sockets: how fast they connect (Roomcast: each
// with a JWT checked against the database; bare: no auth at all), what the
// node's own memory is before and after, and memory per socket.
import { connectMany } from '../load.js';
import { rssBytes } from '../../test/support/rss.js';
import { gcShare, usageAfter, usageBefore } from '../server-usage.js';
import type { Sizes } from '../sizes.js';
import type { Target } from '../targets.js';

export interface IdleResult {
  sockets: number;
  connectSeconds: number;
  connectsPerSec: number;
  /** The server's CPU while connecting, in % of one core, and the GC share of it. */
  connectCpuPercent: number | null;
  connectGcPercent: number | null;
  /** The load generator's CPU while connecting: near 100 the connect rate is the generator's. */
  connectGeneratorCpuPercent: number;
  /** The node's own RSS before any socket, after a full GC (from /proc when the probe does not answer). */
  rssBeforeBytes: number | null;
  /** RSS with every socket open, after settling, as V8 left it. */
  rssAfterBytes: number | null;
  /** RSS and used heap with every socket open, after a full GC. */
  rssAfterGcBytes: number | null;
  heapUsedAfterGcBytes: number | null;
  /** (RSS after GC − RSS before) / sockets; from the settled RSS when there is no after-GC figure. */
  rssPerSocketBytes: number | null;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runIdle(target: Target, sockets: number, sizes: Sizes['idle']): Promise<IdleResult> {
  const accounts = await target.createAccounts(sizes.users);
  const node = target.nodes[0]!;
  await settle(1_000);
  // With --workers N the server is the primary and its workers: their RSS summed (the probe's full GC covers the primary only).
  const rss = () => node.pids().reduce<number | null>((sum, pid) => {
    const bytes = rssBytes(pid);
    return sum === null || bytes === null ? null : sum + bytes;
  }, 0);
  const collect = async () => (node.forksWorkers ? null : node.collect());
  const before = (await collect())?.rssBytes ?? rss();
  const usage = await usageBefore([node]);
  const generatorBefore = process.cpuUsage();
  const { clients, seconds } = await connectMany(target, 0, accounts, sockets, undefined, 200);
  const generator = process.cpuUsage(generatorBefore);
  const connected = await usageAfter([node]);
  try {
    // Long enough for V8's memory reducer to collect the garbage of connecting (it acts after a few idle seconds).
    await settle(sizes.settleMs);
    const after = rss();
    const collected = await collect();
    const wall = (connected.at - usage.at) / 1000;
    const cpu = usage.server !== null && connected.server !== null ? connected.server - usage.server : null;
    const end = collected?.rssBytes ?? after;
    return {
      sockets: clients.length,
      connectSeconds: Math.round(seconds * 100) / 100,
      connectsPerSec: Math.round(clients.length / seconds),
      connectCpuPercent: cpu !== null ? Math.round((cpu / wall) * 1000) / 10 : null,
      connectGcPercent: gcShare(usage, connected).gcPercent,
      connectGeneratorCpuPercent: Math.round(((generator.user + generator.system) / 1e3 / (seconds * 1000)) * 1000) / 10,
      rssBeforeBytes: before,
      rssAfterBytes: after,
      rssAfterGcBytes: collected?.rssBytes ?? null,
      heapUsedAfterGcBytes: collected?.heapUsedBytes ?? null,
      rssPerSocketBytes: before !== null && end !== null ? Math.round((end - before) / clients.length) : null,
    };
  } finally {
    for (const client of clients) client.close();
  }
}
