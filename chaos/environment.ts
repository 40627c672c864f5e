// What the chaos suite runs on: its own throw-away PostgreSQL cluster (which
// it restarts), its own redis-server (which it stops), and Roomcast nodes as
// separate OS processes started from the repository (`server/main.ts`).
// The suite talks to the nodes only through the contract: HTTP, the
// Socket.IO wire and the SDK.
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { freePort } from '../test/support/free-port.js';
import { startNodeProcess, startRedis, type Child, type NodeProcess } from '../test/support/processes.js';
import { PRODUCTION_BCRYPT_COST } from '../test/support/test-limits.js';
import { startPgCluster, type PgCluster } from './pg-cluster.js';

export interface ChaosEnv {
  readonly pg: PgCluster;
  readonly redisPort: number;
  redis: Child;
  /** A fresh database on the cluster, for one scenario: a copy of one migrated once (its nodes find nothing to migrate). */
  freshDatabase(label: string): Promise<string>;
  /** Starts a node process with the rate limits off, quiet logs and the deployment's bcrypt cost (the enumeration timing compares bcrypt work). */
  startNode(name: string, env: Record<string, string>): Promise<NodeProcess>;
  restartRedis(): Promise<void>;
  destroy(): Promise<void>;
}

/** The cluster's migrated template: every scenario's database is a copy of it. */
const TEMPLATE_DATABASE = 'chaos_template';

/** Creates and migrates the template once (closed after: PostgreSQL copies only a database nobody is connected to). */
async function migratedTemplate(pg: PgCluster): Promise<void> {
  const database = openDatabase({ url: await pg.createDatabase(TEMPLATE_DATABASE), dataDir: null, poolSize: 2 });
  try {
    await migrateToLatest(database);
  } finally {
    await database.close();
  }
}

export async function startChaosEnv(): Promise<ChaosEnv> {
  const pg = await startPgCluster();
  const redisPort = await freePort();
  const nodes = new Set<NodeProcess>();
  let redis: Child;
  try {
    await migratedTemplate(pg);
    redis = await startRedis('chaos-redis', redisPort);
  } catch (err) {
    await pg.destroy();
    throw err;
  }
  const env: ChaosEnv = {
    pg,
    redisPort,
    redis,
    freshDatabase: (label) => pg.createDatabase(`chaos_${label}_${randomUUID().slice(0, 8)}`, TEMPLATE_DATABASE),
    async startNode(name, extra) {
      const node = await startNodeProcess(name, { LOG_LEVEL: 'warn', MESSAGE_RATE_LIMIT: '0', ...PRODUCTION_BCRYPT_COST, ...extra });
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
