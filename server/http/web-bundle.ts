// Bundles the web client (web/src/main.ts, with the SDK sources and the
// socket.io-client it imports) with esbuild, in memory. Two callers:
// `npm run build` (scripts/build.ts) writes the files to dist/web/assets once;
// a node started from the sources (`npm start`, tsx) bundles at start. A
// compiled node never loads this module, so production runs no esbuild
// process and its image carries no esbuild.
import { build } from 'esbuild';

/** One output file: `app.js`, `app.js.map`. */
export interface BundleFile {
  name: string;
  contents: Uint8Array;
}

/** Bundles `<webRoot>src/main.ts` (webRoot ends with a slash) as `app.js` with a linked source map. */
export async function bundleWebClient(webRoot: string): Promise<BundleFile[]> {
  const result = await build({
    entryPoints: { app: `${webRoot}src/main.ts` },
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
  return result.outputFiles.map((file) => ({ name: file.path.slice('/assets/'.length), contents: file.contents }));
}
