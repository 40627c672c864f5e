// What a run leaves behind: the whole report as JSON and its chart as SVG,
// side by side in the output folder, named by the run's start time.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderChart } from './chart.js';
import type { BenchReport } from './report.js';

export interface WrittenFiles {
  json: string;
  /** null when the run had neither (a) nor (b) to draw. */
  svg: string | null;
}

export async function writeOutputs(report: BenchReport, outDir: string): Promise<WrittenFiles> {
  mkdirSync(outDir, { recursive: true });
  const base = path.join(outDir, `bench-${report.startedAt.replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2));
  const svg = await renderChart(report);
  if (svg !== null) writeFileSync(`${base}.svg`, svg);
  return { json: `${base}.json`, svg: svg === null ? null : `${base}.svg` };
}
