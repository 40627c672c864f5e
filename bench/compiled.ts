// The servers under test as production runs them (issue 18): Roomcast from
// its compiled build (`npm run build`, what the Docker image and `npm run
// start:dist` run) and the bare baseline bundled by esbuild, so neither
// carries the TypeScript loader. Under tsx a node holds a loader thread, the
// transpiled sources and their source maps (Roomcast's idle RSS: ~280 MB
// under tsx, ~140 MB compiled), and a source run bundles the web client at
// start. `--from-source` runs both under tsx instead.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';

/** The script each server process runs: `.ts` runs under tsx, `.js`/`.mjs` as it is. */
export interface ServerEntries {
  roomcast: string;
  bare: string;
}

export const SOURCE_ENTRIES: ServerEntries = { roomcast: 'server/main.ts', bare: 'bench/bare-server.ts' };

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Compiles both servers into bench-results/servers-<pid> (git-ignored; inside
 * the checkout, so the compiled code resolves its node_modules); `remove()`
 * deletes it.
 */
export async function compileServers(): Promise<ServerEntries & { remove(): Promise<void> }> {
  const outDir = path.join(ROOT, 'bench-results', `servers-${process.pid}`);
  execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/build.ts'), '--out-dir', outDir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const bare = path.join(outDir, 'bench/bare-server.mjs');
  await build({
    entryPoints: [path.join(ROOT, SOURCE_ENTRIES.bare)],
    outfile: bare,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  // esbuild's service process would otherwise idle beside the load generator for the whole run.
  await stop();
  return { roomcast: path.join(outDir, 'server/main.js'), bare, remove: () => rm(outDir, { recursive: true, force: true }) };
}
