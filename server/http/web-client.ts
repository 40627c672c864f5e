// The web client at `/`: its TypeScript sources (web/src, which embed the SDK
// from client-sdk/src) bundled by esbuild, served next to the static files of
// web/public. The compiled build (`npm run build`, what production and the
// Docker image run) carries the bundle in dist/web/assets and serves it from
// there: no bundler at runtime. A node started from the sources (`npm start`,
// tsx) bundles in memory when it starts (a fraction of a second), so a
// newcomer needs no build step.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import type { BundleFile } from './web-bundle.js';

const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
/** Where `npm run build` puts the bundle, under the build's web/ (dist/web/assets). */
export const WEB_ASSETS_DIR = 'assets';
/** Running compiled (dist/…/web-client.js) rather than from the sources (web-client.ts under tsx). */
const COMPILED = path.extname(new URL(import.meta.url).pathname) === '.js';

interface BuiltAsset {
  contentType: string;
  body: Buffer;
}

/**
 * The bundle is the same for every node of a process (tests start many), so
 * it is loaded once per process; this cache holds immutable output only.
 */
let bundling: Promise<Map<string, BuiltAsset>> | null = null;

async function bundle(): Promise<Map<string, BuiltAsset>> {
  // Loaded only from the sources: the compiled node never imports esbuild.
  const files = COMPILED ? await prebuiltBundle() : await (await import('./web-bundle.js')).bundleWebClient(WEB_ROOT);
  const assets = new Map<string, BuiltAsset>();
  for (const { name, contents } of files) {
    const contentType = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : name.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/json; charset=utf-8';
    assets.set(name, { contentType, body: Buffer.from(contents) });
  }
  return assets;
}

/** The files `npm run build` wrote; a build without them fails the start rather than serving a page without its script. */
async function prebuiltBundle(): Promise<BundleFile[]> {
  const dir = path.join(WEB_ROOT, WEB_ASSETS_DIR);
  const names = await readdir(dir).catch((err: unknown) => {
    throw new Error(`the web client's bundle is missing (${dir}); \`npm run build\` makes it`, { cause: err });
  });
  if (!names.includes('app.js')) throw new Error(`the web client's bundle is missing (${dir}/app.js); \`npm run build\` makes it`);
  return Promise.all(names.map(async (name) => ({ name, contents: await readFile(path.join(dir, name)) })));
}

/** The node's settings the page reads from its `<meta name="roomcast:…">` tags (see web/src/server-settings.ts). */
export interface WebClientSettings {
  maxMessageLength: number;
}

const MAX_MESSAGE_LENGTH_META = '<meta name="roomcast:max-message-length" content="">';

/**
 * index.html with this node's settings filled in. Each node renders its own
 * copy (nodes of one process may be configured differently); a page without
 * the tag fails the start, so the web client cannot silently fall back.
 */
async function renderIndex(settings: WebClientSettings): Promise<string> {
  const html = await readFile(`${WEB_ROOT}public/index.html`, 'utf8');
  if (!html.includes(MAX_MESSAGE_LENGTH_META)) throw new Error(`web/public/index.html lacks ${MAX_MESSAGE_LENGTH_META}`);
  return html.replace(MAX_MESSAGE_LENGTH_META, MAX_MESSAGE_LENGTH_META.replace('content=""', `content="${settings.maxMessageLength}"`));
}

/** Bundles or loads the web client (once per process) and returns the router that serves it. */
export async function webClient(settings: WebClientSettings): Promise<Router> {
  bundling ??= bundle().catch((err: unknown) => {
    bundling = null;
    throw err;
  });
  const [assets, index] = await Promise.all([bundling, renderIndex(settings)]);
  const router = express.Router();
  router.get('/assets/:file', (req, res, next) => {
    const asset = assets.get(req.params.file);
    if (!asset) return next();
    res.type(asset.contentType).set('cache-control', 'no-cache').send(asset.body);
  });
  router.get(['/', '/index.html'], (_req, res) => {
    res.type('html').set('cache-control', 'no-cache').send(index);
  });
  router.use(express.static(`${WEB_ROOT}public`, { index: false }));
  return router;
}
