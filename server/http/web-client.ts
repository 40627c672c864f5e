// The web client at `/`: its TypeScript sources (web/src, which embed the SDK
// from client-sdk/src) are bundled with esbuild when the node starts, kept in
// memory and served next to the static files of web/public. Bundling at start
// takes a fraction of a second and needs no build step, no writable folder
// and no committed output: `npm ci && npm start` is enough, and so is the
// Docker image (esbuild is a runtime dependency).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import express, { type Router } from 'express';

const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

interface BuiltAsset {
  contentType: string;
  body: Buffer;
}

/**
 * The bundle is the same for every node of a process (tests start many), so
 * it is built once per process; this cache holds immutable output only.
 */
let bundling: Promise<Map<string, BuiltAsset>> | null = null;

async function bundle(): Promise<Map<string, BuiltAsset>> {
  const result = await build({
    entryPoints: { app: `${WEB_ROOT}src/main.ts` },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    sourcemap: 'linked',
    outdir: '/assets', // a virtual folder: nothing is written (write: false)
    write: false,
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const assets = new Map<string, BuiltAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice('/assets/'.length);
    const contentType = name.endsWith('.js') ? 'text/javascript; charset=utf-8' : name.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/json; charset=utf-8';
    assets.set(name, { contentType, body: Buffer.from(file.contents) });
  }
  return assets;
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

/** Bundles the web client (once per process) and returns the router that serves it. */
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
