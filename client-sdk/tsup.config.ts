import { defineConfig } from 'tsup';

export default defineConfig([
  // The npm package: ESM + CommonJS with declarations; socket.io-client stays a dependency.
  {
    entry: { index: 'src/index.ts', protocol: 'src/protocol.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
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
    target: 'es2020',
    outDir: 'dist/browser',
  },
]);
