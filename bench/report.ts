// The report: the goals of issues 7 and 18 judged on one run's figures,
// printed as plain tables and kept whole as JSON.
import type { RampResult, StepResult } from './load.js';
import type { FanoutResults, IdlePoint } from './run.js';
import type { CrossNodeResult } from './scenarios/cross-node.js';
import type { StormResult } from './scenarios/login-storm.js';
import type { SmallRoomsResult } from './scenarios/small-rooms.js';
import type { WebhookRunResult } from './scenarios/webhook.js';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  /** workers: Roomcast's WORKERS (absent in reports from before --workers: 1). */
  machine: { cpus: number; model: string; loadAverageAtStart: number[]; node: string; pinned: boolean; database: string; workers?: number; servers?: 'compiled' | 'source' };
  scenarios: {
    fanout?: FanoutResults;
    /** `withWebhook`: with `--webhook`, the same run with one webhook endpoint on message.created. */
    smallRooms?: { bare: SmallRoomsResult; roomcast: SmallRoomsResult; withWebhook?: WebhookRunResult };
    /** One point per socket count (10,000 and 20,000 in the default run). */
    idle?: IdlePoint[];
    crossNode?: CrossNodeResult;
    loginStorm?: StormResult;
  };
  goals: Goal[];
}

export interface Goal {
  id: string;
  goal: string;
  /** What was measured, in words and figures. */
  measured: string;
  /** The Roomcast/bare (or with/without) ratio the goal is about, when there is one. */
  ratio: number | null;
  /** null: the figures needed were not measured in this run. */
  met: boolean | null;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const ratioOf = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b !== 0 ? r2(a / b) : null);

/** The highest rate at which both servers ran a step (preferably both sustained), and their CPU per delivery there. */
function sameRateCpu(roomcast: RampResult, bare: RampResult): { rate: number; roomcastUs: number | null; bareUs: number | null; ratio: number | null } | null {
  const pairs = roomcast.steps.flatMap((rs) => bare.steps.filter((bs) => bs.rate === rs.rate).map((bs) => [rs, bs] as const));
  const good = pairs.filter(([rs, bs]) => rs.sustained && bs.sustained);
  const chosen = (good.length ? good : pairs).sort((x, y) => y[0].rate - x[0].rate)[0];
  if (!chosen) return null;
  const [rs, bs] = chosen;
  return { rate: rs.rate, roomcastUs: rs.serverCpuUsPerDelivery, bareUs: bs.serverCpuUsPerDelivery, ratio: ratioOf(rs.serverCpuUsPerDelivery, bs.serverCpuUsPerDelivery) };
}

export function evaluateGoals(report: BenchReport): Goal[] {
  const goals: Goal[] = [];
  const { fanout, smallRooms, idle, crossNode, loginStorm } = report.scenarios;
  if (fanout?.bare) {
    const same = sameRateCpu(fanout.roomcast, fanout.bare);
    goals.push({
      id: 'a.cpu',
      goal: '(a) server CPU per delivery ≤ 1.1× bare at the same rate',
      measured: same ? `at ${same.rate} msg/s: Roomcast ${same.roomcastUs} µs, bare ${same.bareUs} µs` : 'no common rate',
      ratio: same?.ratio ?? null,
      met: same?.ratio != null ? same.ratio <= 1.1 : null,
    });
    const peak = ratioOf(fanout.roomcast.sustainedDeliveriesPerSec, fanout.bare.sustainedDeliveriesPerSec);
    goals.push({
      id: 'a.peak',
      goal: '(a) peak sustained deliveries/s (p99 < 50 ms, nothing missing) ≥ 0.8× bare',
      measured: `Roomcast ${fanout.roomcast.sustainedDeliveriesPerSec}/s (${fanout.roomcast.sustainedRate} msg/s), bare ${fanout.bare.sustainedDeliveriesPerSec}/s (${fanout.bare.sustainedRate} msg/s)`,
      ratio: peak,
      met: peak !== null ? peak >= 0.8 : null,
    });
  }
  if (fanout?.halfRate) {
    const h = fanout.halfRate;
    goals.push({
      id: 'a.latency',
      goal: '(a) at half the sustained rate: ack p99 ≤ 20 ms and delivery p99 ≤ 30 ms',
      measured: `at ${h.rate} msg/s: ack p99 ${h.ack.p99} ms, delivery p99 ${h.delivery.p99} ms, ratio ${h.deliveryRatio}`,
      ratio: null,
      met: h.ack.p99 !== null && h.delivery.p99 !== null ? h.ack.p99 <= 20 && h.delivery.p99 <= 30 && h.deliveryRatio >= 1 : null,
    });
  }
  if (smallRooms) {
    const stored = sustainedAckedPerSec(smallRooms.roomcast.ramp);
    const bare = sustainedAckedPerSec(smallRooms.bare.ramp);
    const ratio = ratioOf(stored, bare);
    const check = smallRooms.roomcast.seqCheck;
    goals.push({
      id: 'b.stored',
      goal: '(b) stored messages/s ≥ 0.7× bare message rate, every seq gap-free',
      measured:
        `Roomcast ${stored} stored msg/s, bare ${bare} msg/s; ` +
        (check ? `${check.messages} messages in ${check.rooms} rooms (acked ${check.ackedTotal}), rooms with gaps: ${check.roomsWithGaps} (checked via ${check.checkedVia})` : 'seqs not checked'),
      ratio,
      met: ratio !== null && check ? ratio >= 0.7 && check.gapFree && check.messages === check.ackedTotal : null,
    });
    const hooked = smallRooms.withWebhook;
    if (hooked) {
      const id = 'b.webhook';
      const goal = '(b) with one webhook endpoint (message.created): its cost stated (ratio: stored msg/s with ÷ without), every stored message delivered';
      if (!('webhook' in hooked)) goals.push({ id, goal, measured: hooked.reason, ratio: null, met: null });
      else {
        const withHook = sustainedAckedPerSec(hooked.ramp);
        const w = hooked.webhook;
        const c = hooked.seqCheck;
        goals.push({
          id,
          goal,
          measured:
            `Roomcast ${withHook} stored msg/s with the endpoint, ${stored} without; ${w.delivered}/${w.acked} acked messages delivered ` +
            `(${w.requests} requests), ${w.allDelivered ? 'all' : 'NOT all'} by ${w.drainSeconds} s after the ramp` +
            (c ? `; seqs gap-free: ${c.gapFree}` : ''),
          ratio: ratioOf(withHook, stored),
          met: w.allDelivered && (c ? c.gapFree : true),
        });
      }
    }
  }
  // Judged at the first (smallest) point, the 10,000 sockets the goals name; the larger ones are in the table.
  const idlePoint = idle?.[0];
  if (idlePoint) {
    const { roomcast: rc, bare } = idlePoint;
    const ratio = ratioOf(rc.rssPerSocketBytes, bare.rssPerSocketBytes);
    goals.push({
      id: 'c.memory',
      goal: '(c) RSS per idle authenticated socket ≤ 1.2× bare; all connect (JWT) in < 20 s',
      measured: `${rc.sockets} sockets: Roomcast ${kb(rc.rssPerSocketBytes)} KB/socket, connected in ${rc.connectSeconds} s; bare ${kb(bare.rssPerSocketBytes)} KB/socket, ${bare.connectSeconds} s`,
      ratio,
      met: ratio !== null ? ratio <= 1.2 && rc.connectSeconds < 20 : null,
    });
    const connects = ratioOf(rc.connectsPerSec, bare.connectsPerSec);
    goals.push({
      id: 'c.connect',
      goal: "(c) authenticated connects/s ≥ 0.6× bare's unauthenticated connects/s",
      measured:
        `${rc.sockets} sockets: Roomcast ${rc.connectsPerSec}/s, bare ${bare.connectsPerSec}/s; ` +
        `node RSS after a full GC, no sockets / all open: Roomcast ${mb(rc.rssBeforeBytes)} / ${mb(rc.rssAfterGcBytes)} MB, bare ${mb(bare.rssBeforeBytes)} / ${mb(bare.rssAfterGcBytes)} MB`,
      ratio: connects,
      met: connects !== null ? connects >= 0.6 : null,
    });
  }
  if (crossNode) {
    if (!crossNode.available) goals.push({ id: 'd.cross-node', goal: '(d) cross-node sustained deliveries/s ≥ 0.8× single node', measured: crossNode.reason, ratio: null, met: null });
    else {
      const ratio = ratioOf(crossNode.ramp.sustainedDeliveriesPerSec, fanout?.roomcast.sustainedDeliveriesPerSec);
      goals.push({
        id: 'd.cross-node',
        goal: '(d) cross-node sustained deliveries/s ≥ 0.8× single node',
        measured: `two nodes ${crossNode.ramp.sustainedDeliveriesPerSec}/s, one node ${fanout?.roomcast.sustainedDeliveriesPerSec ?? 'not run'}/s`,
        ratio,
        met: ratio !== null ? ratio >= 0.8 : null,
      });
    }
  }
  if (loginStorm) {
    const ratio = ratioOf(loginStorm.withStorm.delivery.p99, loginStorm.withoutStorm.delivery.p99);
    goals.push({
      id: 'e.storm',
      goal: '(e) during the login storm, delivery p99 ≤ 2× its value without it',
      measured:
        `at ${loginStorm.rate} msg/s: p99 ${loginStorm.withStorm.delivery.p99} ms with, ${loginStorm.withoutStorm.delivery.p99} ms without; ` +
        `logins ${loginStorm.logins.ok}/${loginStorm.logins.attempted} ok (${JSON.stringify(loginStorm.logins.byStatus)}), login p50 ${loginStorm.logins.latency.p50} ms`,
      ratio,
      met: ratio !== null ? ratio <= 2 && loginStorm.withStorm.deliveryRatio >= 1 : null,
    });
  }
  return goals;
}

function sustainedAckedPerSec(ramp: RampResult): number {
  const step = ramp.steps.find((s) => s.sustained && s.rate === ramp.sustainedRate);
  return step ? step.ackedPerSec : 0;
}

const kb = (bytes: number | null | undefined) => (bytes == null ? 'n/a' : r2(bytes / 1024));
const mb = (bytes: number | null | undefined) => (bytes == null ? '-' : String(r2(bytes / 1048576)));

// ------------------------------------------------------------------ printing

const STEP_COLUMNS = ['server', 'msg/s', 'deliv/s', 'ratio', 'ack p50', 'ack p99', 'dlv p50', 'dlv p99', 'dlv max', 'srv CPU%', 'GC%', 'µs/dlv', 'db µs/dlv', 'gen CPU%', 'ok'];

function stepRow(server: string, s: StepResult): string[] {
  const ms = (v: number | null) => (v === null ? '-' : String(r2(v)));
  return [
    server,
    String(s.rate),
    String(s.deliveriesPerSec),
    s.deliveryRatio.toFixed(4),
    ms(s.ack.p50),
    ms(s.ack.p99),
    ms(s.delivery.p50),
    ms(s.delivery.p99),
    ms(s.delivery.max),
    s.serverCpuPercent === null ? '-' : String(s.serverCpuPercent),
    s.serverGcPercent == null ? '-' : String(s.serverGcPercent),
    s.serverCpuUsPerDelivery === null ? '-' : String(s.serverCpuUsPerDelivery),
    s.databaseCpuUsPerDelivery === null ? '-' : String(s.databaseCpuUsPerDelivery),
    String(s.generatorCpuPercent),
    s.sustained ? 'yes' : `NO${Object.keys(s.ackErrors).length ? ' ' + JSON.stringify(s.ackErrors) : ''}`,
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(i === 0 ? 0 : widths[i]!).padEnd(i === 0 ? widths[i]! : 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function rampRows(server: string, ramp: RampResult | undefined): string[][] {
  return ramp ? ramp.steps.map((s) => stepRow(server, s)) : [];
}

function pinning(m: BenchReport['machine']): string {
  if ((m.workers ?? 1) > 1) {
    return `Roomcast WORKERS=${m.workers} (a primary and ${m.workers} workers over Redis), NOT pinned: its workers, the load generator, PostgreSQL and Redis share all ${m.cpus} cores, so the generator takes CPU the workers would have`;
  }
  return m.pinned ? 'servers on core 0, load generator on core 1' : 'NOT pinned (no taskset or one core)';
}

export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const m = report.machine;
  out.push(
    `Roomcast benchmark ${report.startedAt} (${report.quick ? 'quick' : 'full'}): ${m.cpus} × ${m.model}, node ${m.node}, ` +
      `${pinning(m)}, load average at start ${m.loadAverageAtStart.join(' ')}, ${m.database}, ${m.servers === 'source' ? 'servers from the sources under tsx' : 'servers compiled'}`,
  );
  const { fanout, smallRooms, idle, crossNode, loginStorm } = report.scenarios;
  if (fanout) {
    out.push('', '(a) fan-out: 1 room, receivers and senders as sized, 100-byte messages');
    const rows = [...rampRows('bare', fanout.bare), ...rampRows('roomcast', fanout.roomcast)];
    if (fanout.halfRate) rows.push(stepRow('roomcast ½', fanout.halfRate));
    out.push(table(STEP_COLUMNS, rows));
  }
  if (loginStorm) {
    out.push('', `(e) login storm: ${loginStorm.logins.attempted} logins attempted, ${loginStorm.logins.perSec} ok/s, login p50 ${loginStorm.logins.latency.p50} ms p99 ${loginStorm.logins.latency.p99} ms, statuses ${JSON.stringify(loginStorm.logins.byStatus)}`);
    out.push(table(STEP_COLUMNS, [stepRow('no storm', loginStorm.withoutStorm), stepRow('storm', loginStorm.withStorm)]));
  }
  if (smallRooms) {
    out.push(
      '',
      `(b) many small rooms, every member sending (deliveries = 3 per message; ack = stored); ` +
        `sockets connected in ${smallRooms.bare.connectSeconds} s (bare) / ${smallRooms.roomcast.connectSeconds} s (Roomcast), ` +
        `room:join all in ${smallRooms.bare.joinSeconds} s / ${smallRooms.roomcast.joinSeconds} s`,
    );
    const hooked = smallRooms.withWebhook && 'webhook' in smallRooms.withWebhook ? smallRooms.withWebhook : null;
    out.push(table(STEP_COLUMNS, [...rampRows('bare', smallRooms.bare.ramp), ...rampRows('roomcast', smallRooms.roomcast.ramp), ...rampRows('rc+webhook', hooked?.ramp)]));
    if (hooked) {
      const w = hooked.webhook;
      out.push(`rc+webhook: one endpoint (${w.events.join(', ')}), a receiver answering 204 on 127.0.0.1; ${w.delivered}/${w.acked} acked messages delivered (${w.requests} requests), ${w.allDelivered ? 'all' : 'NOT all'} by ${w.drainSeconds} s after the ramp`);
    } else if (smallRooms.withWebhook && !('webhook' in smallRooms.withWebhook)) out.push(`rc+webhook: ${smallRooms.withWebhook.reason}`);
  }
  if (idle?.length) {
    out.push('', '(c) idle sockets (Roomcast: a JWT each, checked at the handshake; bare: no auth); RSS is the server node\'s own');
    const pct = (v: number | null | undefined) => (v == null ? '-' : String(v));
    out.push(
      table(
        ['server', 'sockets', 'connect s', 'connects/s', 'srv CPU%', 'GC%', 'gen CPU%', 'RSS idle MB', 'RSS settled MB', 'RSS after GC MB', 'heap after GC MB', 'KB/socket'],
        idle.flatMap((point) =>
          (['bare', 'roomcast'] as const).map((k) => {
            const x = point[k];
            return [
              k,
              String(x.sockets),
              String(x.connectSeconds),
              String(x.connectsPerSec),
              pct(x.connectCpuPercent),
              pct(x.connectGcPercent),
              pct(x.connectGeneratorCpuPercent),
              mb(x.rssBeforeBytes),
              mb(x.rssAfterBytes),
              mb(x.rssAfterGcBytes),
              mb(x.heapUsedAfterGcBytes),
              String(kb(x.rssPerSocketBytes)),
            ];
          }),
        ),
      ),
    );
    for (const point of idle) if (point.capped) out.push(`${point.capped.asked} sockets asked, ${point.sockets} run: ${point.capped.reason}`);
  }
  if (crossNode) {
    out.push('', '(d) two nodes over Redis (senders on node 1, receivers on node 2; CPU is both nodes)');
    out.push(crossNode.available ? table(STEP_COLUMNS, rampRows('2 nodes', crossNode.ramp)) : crossNode.reason);
  }
  out.push('', 'Goals (issues 7 and 18)');
  out.push(
    table(
      ['goal', 'ratio', 'met', 'measured'],
      report.goals.map((g) => [g.goal, g.ratio === null ? '-' : String(g.ratio), g.met === null ? 'n/a' : g.met ? 'MET' : 'NOT MET', g.measured]),
    ),
  );
  return out.join('\n');
}
