// Runs the chosen scenarios against Roomcast and the bare baseline, one
// server process at a time, and gathers the results into one report.
import os from 'node:os';
import { DeliveryRecorder, spreadClients, type RampOptions, type RampResult, type StepResult } from './load.js';
import { canPin } from './processes.js';
import { openFilesLimit, setBenchDatabase } from './proc-stats.js';
import { evaluateGoals, type BenchReport } from './report.js';
import { runCrossNode, type CrossNodeResult } from './scenarios/cross-node.js';
import { rampFanout, setUpFanout } from './scenarios/fanout.js';
import { runIdle, type IdleResult } from './scenarios/idle.js';
import { runLoginStorm, type StormResult } from './scenarios/login-storm.js';
import { runSmallRooms, type SmallRoomsResult } from './scenarios/small-rooms.js';
import { runSmallRoomsWithWebhook, WEBHOOK_NODE_ENV, type WebhookRunResult } from './scenarios/webhook.js';
import { sizesFor } from './sizes.js';
import { SOURCE_ENTRIES, type ServerEntries } from './compiled.js';
import { startBare, startRoomcast, type Target } from './targets.js';

/** Files a server or the generator keeps open besides its sockets (database pool, logs, pipes). */
const FILES_HEADROOM = 200;

export type ScenarioName = 'a' | 'b' | 'c' | 'd' | 'e';
export const ALL_SCENARIOS: readonly ScenarioName[] = ['a', 'b', 'c', 'd', 'e'];

export interface BenchOptions {
  quick: boolean;
  scenarios: ReadonlySet<ScenarioName>;
  /** Roomcast's database: a postgres:// URL of a database made for this run, or "memory". */
  databaseUrl: string;
  redisUrl: string;
  /** Socket counts of the idle scenario's points. */
  idleSockets?: number[];
  /** Extra node flags for the Roomcast processes (e.g. --cpu-prof). */
  roomcastNodeFlags: string[];
  /** Extra node flags for the bare Socket.IO processes (`--cpu-prof` profiles both, to compare). */
  bareNodeFlags?: string[];
  /** The servers' scripts: compiled (the default run) or the sources. */
  entries: ServerEntries;
  /** `--webhook`: run (b) once more with one webhook endpoint subscribed to message.created (its cost, issue 15). */
  webhook?: boolean;
  /** Overrides of the ramps of (a) and (b), for profiling one load level. */
  rampOverride?: Partial<RampOptions>;
  /** Progress lines (the default run prints them on stderr). */
  log: (line: string) => void;
  /** Roomcast's WORKERS in scenarios a, b, c and e (default 1: one process pinned to core 0). */
  workers?: number;
}

/** One socket count of the idle scenario, on both servers. */
export interface IdlePoint {
  sockets: number;
  /** Set when the open-file limit allowed fewer sockets than asked: the count asked for, and why. */
  capped?: { asked: number; reason: string };
  bare: IdleResult;
  roomcast: IdleResult;
}

export interface FanoutResults {
  bare?: RampResult;
  roomcast: RampResult;
  /** Roomcast at half its sustained rate (the latency goal, and the storm's baseline). */
  halfRate?: StepResult;
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const sizes = sizesFor(options.quick, options.idleSockets);
  Object.assign(sizes.fanout.ramp, options.rampOverride);
  Object.assign(sizes.smallRooms.ramp, options.rampOverride);
  const recorder = new DeliveryRecorder();
  const has = (s: ScenarioName) => options.scenarios.has(s);
  const postgresUrl = options.databaseUrl.startsWith('postgres') ? options.databaseUrl : null;
  setBenchDatabase(postgresUrl ? new URL(postgresUrl).pathname.slice(1) : null);
  const startedAt = new Date();
  const workers = options.workers ?? 1;
  // Spread the clients over the workers: the primary routes by client address.
  if (workers > 1) spreadClients(workers);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    quick: options.quick,
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
      node: process.version,
      pinned: canPin() && workers === 1,
      workers,
      database: postgresUrl ? 'postgresql' : 'embedded (memory)',
      servers: options.entries === SOURCE_ENTRIES ? 'source' : 'compiled',
    },
    scenarios: {},
    goals: [],
  };
  const roomcast = () =>
    startRoomcast({ databaseUrl: options.databaseUrl, nodeFlags: options.roomcastNodeFlags, entry: options.entries.roomcast, workers, redisUrl: workers > 1 ? options.redisUrl : null });
  const withTarget = async <T>(start: () => Promise<Target>, work: (t: Target) => Promise<T>): Promise<T> => {
    const target = await start();
    try {
      return await work(target);
    } finally {
      await target.stop();
    }
  };

  const bareTarget = () => startBare(options.entries.bare, options.bareNodeFlags);

  if (has('a') || has('e')) {
    let bare: RampResult | undefined;
    if (has('a')) {
      options.log('(a) fan-out: bare Socket.IO');
      bare = await withTarget(bareTarget, async (target) => {
        const setup = await setUpFanout(target, sizes.fanout, recorder);
        try {
          return await rampFanout(setup, sizes.fanout);
        } finally {
          setup.close();
        }
      });
    }
    options.log('(a) fan-out: Roomcast');
    let storm: StormResult | undefined;
    const fanout: FanoutResults = await withTarget(roomcast, async (target) => {
      const setup = await setUpFanout(target, sizes.fanout, recorder);
      try {
        const result = await rampFanout(setup, sizes.fanout);
        const half = Math.max(1, Math.round((result.sustainedRate || sizes.fanout.ramp.startRate) / 2));
        options.log(`(a) Roomcast at half its sustained rate: ${half} msg/s`);
        const halfRate = await setup.step(half, sizes.fanout.halfRateMs);
        if (has('e')) {
          options.log(`(e) login storm at ${sizes.storm.loginsPerSec}/s, fan-out at ${half} msg/s`);
          storm = await runLoginStorm(setup, half, sizes.fanout.halfRateMs, sizes.storm, halfRate);
        }
        return { bare, roomcast: result, halfRate };
      } finally {
        setup.close();
      }
    });
    report.scenarios.fanout = fanout;
    if (storm) report.scenarios.loginStorm = storm;
  }

  if (has('b')) {
    const smallRooms: { bare?: SmallRoomsResult; roomcast?: SmallRoomsResult; withWebhook?: WebhookRunResult } = {};
    options.log('(b) small rooms: bare Socket.IO');
    smallRooms.bare = await withTarget(bareTarget, (t) => runSmallRooms(t, sizes.smallRooms, recorder, null));
    options.log('(b) small rooms: Roomcast');
    smallRooms.roomcast = await withTarget(roomcast, (t) => runSmallRooms(t, sizes.smallRooms, recorder, postgresUrl));
    if (options.webhook) {
      options.log('(b) small rooms: Roomcast with one webhook endpoint (message.created)');
      const withWebhooks = () => startRoomcast({ databaseUrl: options.databaseUrl, nodeFlags: options.roomcastNodeFlags, entry: options.entries.roomcast, env: { ...WEBHOOK_NODE_ENV } });
      smallRooms.withWebhook = await withTarget(withWebhooks, (t) => runSmallRoomsWithWebhook(t, sizes.smallRooms, recorder, postgresUrl, options.quick ? 20_000 : 60_000));
    }
    report.scenarios.smallRooms = smallRooms as { bare: SmallRoomsResult; roomcast: SmallRoomsResult; withWebhook?: WebhookRunResult };
  }

  if (has('c')) {
    const points: IdlePoint[] = [];
    const fileLimit = openFilesLimit();
    for (const asked of sizes.idle.sockets) {
      // One server process holds every socket, and so does the generator: each needs a file per socket plus its own.
      const sockets = fileLimit !== null ? Math.min(asked, fileLimit - FILES_HEADROOM) : asked;
      const capped = sockets < asked ? { asked, reason: `open-file limit ${fileLimit} (ulimit -n), less ${FILES_HEADROOM} for the processes' own files` } : undefined;
      if (capped) options.log(`(c) ${asked} sockets asked, ${sockets} possible: ${capped.reason}`);
      options.log(`(c) ${sockets} idle sockets: bare Socket.IO`);
      const bare = await withTarget(bareTarget, (t) => runIdle(t, sockets, sizes.idle));
      options.log(`(c) ${sockets} idle sockets: Roomcast`);
      points.push({ sockets, ...(capped ? { capped } : {}), bare, roomcast: await withTarget(roomcast, (t) => runIdle(t, sockets, sizes.idle)) });
    }
    report.scenarios.idle = points;
  }

  if (has('d')) {
    options.log('(d) two Roomcast nodes over Redis');
    let crossNode: CrossNodeResult;
    if (!postgresUrl) crossNode = { available: false, reason: 'not available: two nodes need a shared PostgreSQL (DATABASE_URL)' };
    else crossNode = await runCrossNode(postgresUrl, options.redisUrl, sizes.fanout, recorder, options.roomcastNodeFlags, options.entries.roomcast);
    report.scenarios.crossNode = crossNode;
  }

  report.finishedAt = new Date().toISOString();
  report.goals = evaluateGoals(report);
  return report;
}
