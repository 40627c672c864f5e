import { defineConfig, type Options } from 'tsup';

/**
 * Source maps point at the sources instead of embedding them: the package
 * ships src/ next to dist/, and embedded sources (socket.io-client's too, in
 * the browser bundles) were over half of the packed size
 * (test/sdk-package.test.ts holds the package to its size budget).
 */
const mapsWithoutSources: Options['esbuildOptions'] = (options) => {
  options.sourcesContent = false;
};

export default defineConfig([
  // The npm package: ESM + CommonJS with declarations; socket.io-client stays a dependency.
  {
    entry: { index: 'src/index.ts', protocol: 'src/protocol.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    esbuildOptions: mapsWithoutSources,
    clean: true,
    target: 'es2022',
    outDir: 'dist',
  },
  // A self-contained browser bundle (socket.io-client inside): ESM, and an IIFE exposing `Roomcast`.
  {
    entry: { roomcast: 'src/index.ts' },
    format: ['esm', 'iife'],
    platform: 'browser',
    globalName: 'Roomcast',
    noExternal: [/.*/],
    minify: true,
    sourcemap: true,
    esbuildOptions: mapsWithoutSources,
    target: 'es2020',
    outDir: 'dist/browser',
  },
]);
