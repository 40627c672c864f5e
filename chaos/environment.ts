// What the chaos suite runs on: its own throw-away PostgreSQL cluster (which
// it restarts), its own redis-server (which it stops), and Roomcast nodes as
// separate OS processes started from the repository (`server/main.ts`).
// The suite talks to the nodes only through the contract: HTTP, the
// Socket.IO wire and the SDK.
import { randomUUID } from 'node:crypto';
import { freePort } from '../test/support/free-port.js';
import { startNodeProcess, startRedis, type Child, type NodeProcess } from '../test/support/processes.js';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

export interface ChaosEnv {
  readonly pg: PgCluster;
  readonly redisPort: number;
  redis: Child;
  /** A fresh database on the cluster, for one scenario. */
  freshDatabase(label: string): Promise<string>;
  /** Starts a node process with the rate limits off and quiet logs. */
  startNode(name: string, env: Record<string, string>): Promise<NodeProcess>;
  restartRedis(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startChaosEnv(): Promise<ChaosEnv> {
  const pg = await startPgCluster();
  const redisPort = await freePort();
  const nodes = new Set<NodeProcess>();
  let redis: Child;
  try {
    redis = await startRedis('chaos-redis', redisPort);
  } catch (err) {
    await pg.destroy();
    throw err;
  }
  const env: ChaosEnv = {
    pg,
    redisPort,
    redis,
    freshDatabase: (label) => pg.createDatabase(`chaos_${label}_${randomUUID().slice(0, 8)}`),
    async startNode(name, extra) {
      const node = await startNodeProcess(name, { LOG_LEVEL: 'warn', MESSAGE_RATE_LIMIT: '0', ...extra });
      nodes.add(node);
      return node;
    },
    async restartRedis() {
      env.redis = await startRedis('chaos-redis', redisPort);
    },
    async destroy() {
      await Promise.all([...nodes].map((n) => n.child.stop('SIGKILL', 2_000)));
      await env.redis.stop('SIGTERM', 5_000);
      await pg.destroy();
    },
  };
  return env;
}
