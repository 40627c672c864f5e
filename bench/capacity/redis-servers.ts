// The Redis servers the capacity benchmark measures: a private single
// redis-server and the tests' local three-master cluster, both on free
// 127.0.0.1 ports (never the machine's shared Redis, whose CPU other work
// would share), and each server's own CPU count (`INFO cpu`).
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../test/support/free-port.js';
import { startRedisCluster, type LocalRedisCluster } from '../../test/support/redis-cluster-server.js';

export interface RedisUnderTest {
  kind: 'single' | 'cluster';
  /** REDIS_URL (single) or the REDIS_CLUSTER_NODES list (cluster), as redis:// URLs. */
  target: { url: string } | { clusterNodes: string[] };
  /** Every server's port, masters only. */
  ports: number[];
  /** Index in `ports` of the server holding `channel` (0 on a single Redis). */
  ownerOf(channel: string): number;
  stop(): Promise<void>;
}

/** Whether redis-server and redis-cli are on PATH. */
export function hasRedisBinaries(): boolean {
  return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** A private redis-server without persistence; ready when it answers PING (bounded: 10 s). */
export async function startSingleRedis(): Promise<RedisUnderTest> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const deadline = Date.now() + 10_000;
  while (cli(port, 'ping').trim() !== 'PONG') {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error('private redis-server did not answer PING');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { kind: 'single', target: { url: `redis://127.0.0.1:${port}` }, ports: [port], ownerOf: () => 0, stop };
}

/** The tests' local Redis Cluster: three masters, no replicas. */
export async function startClusterRedis(): Promise<RedisUnderTest> {
  const cluster: LocalRedisCluster = await startRedisCluster(3, 0);
  return {
    kind: 'cluster',
    target: { clusterNodes: cluster.nodes.map((node) => `redis://${node}`) },
    ports: cluster.nodes.map((n) => Number(n.split(':')[1])),
    ownerOf: (channel) => cluster.ownerOf(channel),
    stop: () => cluster.stop(),
  };
}

/** CPU seconds (user + system, all threads) a Redis server has used, from its own INFO; null if it does not answer. */
export function redisCpuSeconds(port: number): number | null {
  const info = cli(port, 'info', 'cpu');
  const user = /used_cpu_user:([\d.]+)/.exec(info);
  const sys = /used_cpu_sys:([\d.]+)/.exec(info);
  return user && sys ? Number(user[1]) + Number(sys[1]) : null;
}

function cli(port: number, ...args: string[]): string {
  const run = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 2_000 });
  return run.status === 0 ? run.stdout : '';
}
