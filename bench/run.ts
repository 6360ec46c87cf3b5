// make bench: runs every benchmark against the real local infra that `polyglot infra exec` started,
// and prints one JSON line per benchmark plus a readable table. Name benchmarks to run only those:
// `node dist/bench/run.js quality` (names: history, latency, quality).
// The quality scoreboard's knobs (docs/quality.md): PC_QUALITY_SENTENCES (first n sentences only),
// PC_QUALITY_SENTENCE_IDS (only these ids, comma-separated), PC_QUALITY_SPEED (audio pace, 1 = real time), PC_QUALITY_CONCURRENCY (utterances at once).
import path from 'node:path';

import { parseConfig } from '../core/src/config.js';
import { captionLatencyBench } from './captionLatency.js';
import { historyInsertBench } from './historyInsert.js';
import { qualityBench } from './quality/qualityBench.js';
import type { BenchResult } from './result.js';

const cfg = parseConfig(process.env);
const infra = { PC_NATS_URL: cfg.natsUrl, PC_DATABASE_URL: cfg.database.url, PC_REDIS_URL: cfg.redisUrl };

function positive(name: string, fallback: number | undefined): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(value > 0)) throw new TypeError(`${name} must be a positive number (got ${raw})`);
  return value;
}

const benches: Record<string, () => Promise<BenchResult>> = {
  history: () => historyInsertBench(cfg.database.url),
  latency: () => captionLatencyBench(infra),
  quality: () =>
    qualityBench({
      natsUrl: cfg.natsUrl,
      cacheDir: path.join(cfg.cacheDir, 'quality-audio'),
      speed: positive('PC_QUALITY_SPEED', 1)!,
      concurrency: Math.round(positive('PC_QUALITY_CONCURRENCY', 2)!),
      sentences: positive('PC_QUALITY_SENTENCES', undefined),
      sentenceIds: process.env.PC_QUALITY_SENTENCE_IDS ? process.env.PC_QUALITY_SENTENCE_IDS.split(',') : undefined,
    }),
};
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length > 0) throw new TypeError(`unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);

const results: BenchResult[] = [];
for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) results.push(await benches[name]!());
for (const r of results) {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`\n${r.name}\n${Object.entries(r.figures).map(([k, v]) => `  ${k.padEnd(30)} ${v}`).join('\n')}\n  (${r.notes})\n`);
}
