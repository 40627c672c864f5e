// `npm run build [-- --out-dir DIR]`: the compiled build that production and
// the Docker image run (`node dist/server/main.js`, no TypeScript loader, no
// bundler): tsc compiles the server, the migrations and the operator commands
// (tsconfig.build.json; emit only, `npm run typecheck` checks), esbuild
// bundles the web client into web/assets, and the static files the server
// reads are copied, all in the sources' layout so every path relative to a
// module holds. DIR (default dist/) is emptied first; it runs with the
// package.json and node_modules of the folder above it.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bundleWebClient } from '../server/http/web-bundle.js';
import { WEB_ASSETS_DIR } from '../server/http/web-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Files read at runtime by path (not imported), copied as they are. */
const STATIC_FOLDERS = ['server/http/docs-ui', 'web/public'];

const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = path.resolve(ROOT, values['out-dir']!);
if (!path.relative(outDir, ROOT).startsWith('..')) throw new Error(`--out-dir ${outDir} would empty the sources`);

await rm(outDir, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { cwd: ROOT, stdio: 'inherit' });
for (const folder of STATIC_FOLDERS) await cp(path.join(ROOT, folder), path.join(outDir, folder), { recursive: true });
const assets = path.join(outDir, 'web', WEB_ASSETS_DIR);
await mkdir(assets, { recursive: true });
for (const file of await bundleWebClient(`${path.join(ROOT, 'web')}/`)) await writeFile(path.join(assets, file.name), file.contents);
console.log(`built ${path.relative(ROOT, outDir) || outDir}: start it with \`node ${path.join(path.relative(ROOT, outDir), 'server/main.js')}\``);
