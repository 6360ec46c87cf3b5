#!/usr/bin/env node
// Bundles the web pages (mediasoup-client in the browser) into dist/web, or into --outdir DIR.
// `make setup` runs it; the signaling node serves the result. esbuild resolves the shared
// TypeScript (../src/protocol.ts and friends) itself; no tsc step for the browser code.
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(values.outdir ?? path.join(root, 'dist', 'web'));

await mkdir(path.join(outdir, 'assets'), { recursive: true });
await build({
  entryPoints: { host: path.join(here, 'src/host.ts'), viewer: path.join(here, 'src/viewer.ts') },
  outdir: path.join(outdir, 'assets'),
  bundle: true,
  format: 'esm',
  // host and viewer share mediasoup-client, zod and the protocol: one cached chunk for both.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
await cp(path.join(here, 'pages'), outdir, { recursive: true });
process.stdout.write(`web pages built into ${path.relative(process.cwd(), outdir) || '.'}\n`);
