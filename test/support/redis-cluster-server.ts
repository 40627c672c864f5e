// A real local Redis Cluster for the tests: three masters (`redis-server
// --cluster-enabled yes` on free ports in a temp dir, joined by `redis-cli
// --cluster create`), ready when CLUSTER INFO says ok on every master, and
// stopped (processes killed, directory removed) after.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { freePort } from './free-port.js';

export interface LocalRedisCluster {
  /** `host:port` of every master, as REDIS_CLUSTER_NODES takes them. */
  readonly nodes: string[];
  /** Kills one master (SIGKILL: a crash) and starts it again on its port with its cluster config; resolves when the cluster is ok again. */
  restart(index: number): Promise<void>;
  /** Kills one server (SIGKILL) for good: with replicas, one of its replicas takes over; resolves when the cluster is ok again. */
  kill(index: number): Promise<void>;
  /** Index (in `nodes`) of the master that holds `key`'s slot (a sharded channel's too). */
  ownerOf(key: string): number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/** Whether this machine can run a Redis Cluster (redis-server and redis-cli on PATH). */
export function hasRedisServer(): boolean {
  return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
}

/** `replicas` per master: with 1, a killed master is replaced by its replica (failover). */
export async function startRedisCluster(masters = 3, replicas = 0): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'roomcast-redis-cluster-'));
  const ports = await distinctFreePorts(masters * (1 + replicas));
  const dead = new Set<number>();
  const allOk = () => ports.every((port) => dead.has(port) || clusterOk(port));
  const processes = new Map<number, ChildProcess>();
  const launch = (port: number) => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '2000', '--appendonly', 'no', '--save', '', '--daemonize', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    processes.set(port, child);
    return child;
  };
  const stop = async () => {
    await Promise.all([...processes.values()].map(killAndWait));
    processes.clear();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) launch(port);
    await waitUntil(() => ports.every((port) => cli(port, 'ping').trim() === 'PONG'), 'the Redis servers to answer');
    const masterPorts = ports.slice(0, masters);
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...masterPorts.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await waitUntil(() => masterPorts.every((port) => clusterOk(port)), 'the Redis Cluster to be ok');
    // Replicas one by one, each to a named master (create's own placement avoids one host and gives up here).
    for (const [i, port] of ports.slice(masters).entries()) {
      const master = masterPorts[i % masters]!;
      const added = spawnSync('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${port}`, `127.0.0.1:${master}`, '--cluster-slave', '--cluster-master-id', cli(master, 'cluster', 'myid').trim()], { encoding: 'utf8' });
      if (added.status !== 0) throw new Error(`redis-cli --cluster add-node failed: ${added.stdout}${added.stderr}`);
    }
    const replicasUp = () => cli(masterPorts[0]!, 'cluster', 'nodes').split('\n').filter((line) => line.includes('slave') && line.includes(' connected')).length === masters * replicas;
    await waitUntil(() => allOk() && replicasUp(), 'the Redis Cluster and its replicas to be ok');
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: ports.map((port) => `127.0.0.1:${port}`),
    async restart(index) {
      const port = ports[index]!;
      await killAndWait(processes.get(port)!);
      launch(port);
      await waitUntil(allOk, 'the Redis Cluster to be ok after a restart');
    },
    async kill(index) {
      const port = ports[index]!;
      dead.add(port);
      await killAndWait(processes.get(port)!);
      // The survivors first notice the master gone (cluster-node-timeout), then a replica is promoted.
      const live = ports.find((p) => !dead.has(p))!;
      // Done when a survivor lists the killed master as failed (`fail`, not the suspected `fail?`) and holding no slots any more.
      const replaced = () =>
        cli(live, 'cluster', 'nodes').split('\n').some((line) => {
          const fields = line.split(' ');
          return line.includes(`:${port}@`) && fields[2]!.split(',').includes('fail') && fields.length <= 8;
        });
      await waitUntil(() => replaced() && allOk(), 'the failover to a replica');
    },
    ownerOf(key) {
      const slot = Number(cli(ports[0]!, 'cluster', 'keyslot', key).trim());
      const owner = ports.findIndex((port) => {
        if (dead.has(port)) return false;
        const self = cli(port, 'cluster', 'nodes').split('\n').find((line) => line.includes('myself'));
        return (self?.split(' ').slice(8) ?? []).some((range) => {
          const [from, to = from] = range.split('-').map(Number);
          return slot >= from! && slot <= to!;
        });
      });
      if (owner < 0) throw new Error(`no master holds slot ${slot}`);
      return owner;
    },
    stop,
  };
}

function cli(port: number, ...args: string[]): string {
  const run = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8', timeout: 2_000 });
  return run.status === 0 ? run.stdout : '';
}

const clusterOk = (port: number) => /cluster_state:ok/.test(cli(port, 'cluster', 'info'));

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  // Each port's cluster bus is port + 10000: both must be free.
  for (let tries = 0; ports.size < n && tries < 50; tries++) {
    const port = await freePort();
    if (port < 55_000 && ![...ports].some((p) => Math.abs(p - port) === 10_000) && (await isFree(port + 10_000))) ports.add(port);
  }
  if (ports.size < n) throw new Error('no free ports for a Redis Cluster');
  return [...ports];
}

function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
