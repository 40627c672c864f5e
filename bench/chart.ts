// The run as a picture: delivery p99 against offered deliveries/s on (a)'s
// ramp, and stored msgs/s against offered msgs/s on (b)'s, both servers in
// each, and under each the GC share of the server's CPU per step. A Vega-Lite spec rendered to SVG by Vega's headless view (no browser,
// no DOM). Every step is a point (hollow: the step failed); the line joins
// the attempt that decided each rate (the last one).
import type { TopLevelSpec } from 'vega-lite';
import type { RampResult, StepResult } from './load.js';
import type { BenchReport } from './report.js';

export const SERVERS = ['bare', 'roomcast'] as const;
const COLORS = ['#7f7f7f', '#d62728'];
const P99_LIMIT_MS = 50;

export interface Point {
  server: string;
  x: number;
  y: number;
  passed: boolean;
  /** The attempt that decided its rate (drawn on the line). */
  decisive: boolean;
}

/** A ramp's steps as points; steps without a y value (no delivery measured) are left out. */
export function rampPoints(server: string, ramp: RampResult | undefined, x: (s: StepResult) => number, y: (s: StepResult) => number | null): Point[] {
  if (!ramp) return [];
  const lastAt = new Map(ramp.steps.map((s, i) => [s.rate, i] as const));
  return ramp.steps.flatMap((s, i) => {
    const value = y(s);
    return value === null || !Number.isFinite(value) ? [] : [{ server, x: x(s), y: value, passed: s.sustained, decisive: lastAt.get(s.rate) === i }];
  });
}

/** Deliveries/s the step asked for: its rate times the receivers of each message. */
const offeredDeliveries = (s: StepResult) => Math.round(s.sent > 0 ? (s.rate * s.expectedDeliveries) / s.sent : 0);

type Layer = Record<string, unknown>;

/** Points and the line through the deciding attempts, coloured by server. */
function series(values: Point[], xTitle: string, yTitle: string, yScale: Record<string, unknown>, extra: Layer[], height = 260): Layer {
  const x = { field: 'x', type: 'quantitative', title: xTitle };
  const y = { field: 'y', type: 'quantitative', title: yTitle, scale: yScale };
  const color = { field: 'server', type: 'nominal', title: 'server', scale: { domain: [...SERVERS], range: COLORS } };
  return {
    data: { values },
    width: 360,
    height,
    layer: [
      { transform: [{ filter: 'datum.decisive' }], mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x, y, color, order: { field: 'x' } } },
      { transform: [{ filter: 'datum.passed' }], mark: { type: 'point', size: 45, filled: true }, encoding: { x, y, color } },
      { transform: [{ filter: '!datum.passed' }], mark: { type: 'point', size: 45, strokeWidth: 1.5, filled: false, fill: 'white' }, encoding: { x, y, color } },
      ...extra,
    ],
  };
}

/** The GC share of the server's CPU per step, under a scenario's main panel (old reports without it: none). */
function gcPanel(name: string, bare: RampResult | undefined, roomcast: RampResult | undefined, x: (s: StepResult) => number, xTitle: string): Layer | null {
  const gc = (s: StepResult) => s.serverGcPercent ?? null;
  const values = [...rampPoints('bare', bare, x, gc), ...rampPoints('roomcast', roomcast, x, gc)];
  if (values.length === 0) return null;
  // At least 0-5 %: steps without a single GC would otherwise get a degenerate axis.
  const scale = { domain: [0, Math.max(5, ...values.map((p) => p.y))], nice: true };
  return { title: { text: `${name}: GC share of the server's CPU`, subtitle: "main-thread GC pauses ÷ the server's CPU time, per step" }, ...series(values, xTitle, 'GC % of server CPU', scale, [], 140) };
}

/** The Vega-Lite spec of a report's chart, or null when it ran neither (a) nor (b). */
export function chartSpec(report: BenchReport): TopLevelSpec | null {
  const { fanout, smallRooms } = report.scenarios;
  const panels: Layer[] = [];
  const gcPanels: Layer[] = [];
  if (fanout) {
    const values = [
      ...rampPoints('bare', fanout.bare, offeredDeliveries, (s) => s.delivery.p99),
      ...rampPoints('roomcast', fanout.roomcast, offeredDeliveries, (s) => s.delivery.p99),
    ];
    const limit = { data: { values: [{ limit: P99_LIMIT_MS }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { y: { field: 'limit', type: 'quantitative' } } };
    panels.push({
      title: { text: '(a) fan-out: delivery p99 vs offered deliveries/s', subtitle: 'log scale; dashed: the 50 ms pass limit; hollow: step failed' },
      ...series(values, 'offered deliveries/s', 'delivery p99 (ms)', { type: 'log' }, [limit]),
    });
    const gc = gcPanel('(a)', fanout.bare, fanout.roomcast, offeredDeliveries, 'offered deliveries/s');
    if (gc) gcPanels.push(gc);
  }
  if (smallRooms) {
    const values = [
      ...rampPoints('bare', smallRooms.bare.ramp, (s) => s.rate, (s) => s.ackedPerSec),
      ...rampPoints('roomcast', smallRooms.roomcast.ramp, (s) => s.rate, (s) => s.ackedPerSec),
    ];
    const top = Math.max(1, ...values.map((p) => Math.max(p.x, p.y)));
    const diagonal = {
      data: { values: [{ x: 0, y: 0 }, { x: top, y: top }] },
      mark: { type: 'line', strokeDash: [2, 3], color: '#999', strokeWidth: 1 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
    };
    panels.push({
      title: { text: '(b) small rooms: acked msgs/s vs offered msgs/s', subtitle: 'Roomcast acks once stored; dotted: all acked; hollow: step failed' },
      ...series(values, 'offered msgs/s', 'acked msgs/s', {}, [diagonal]),
    });
    const gc = gcPanel('(b)', smallRooms.bare.ramp, smallRooms.roomcast.ramp, (s) => s.rate, 'offered msgs/s');
    if (gc) gcPanels.push(gc);
  }
  if (panels.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Roomcast vs bare Socket.IO, ${report.startedAt} (${report.quick ? 'quick' : 'full'} run)`, anchor: 'start' },
    background: 'white',
    padding: 10,
    ...(gcPanels.length ? { vconcat: [{ hconcat: panels }, { hconcat: gcPanels }] } : { hconcat: panels }),
    resolve: { scale: { color: 'shared' } },
    config: { title: { anchor: 'start', subtitleFontSize: 10 }, concat: { spacing: 40 } },
  } as unknown as TopLevelSpec;
}

/** The report's chart as SVG text, or null when there is nothing to draw. */
export async function renderChart(report: BenchReport): Promise<string | null> {
  const spec = chartSpec(report);
  if (!spec) return null;
  // Loaded here, not at the top: both are ES modules only, and the test runner require()s the files that import this one.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
