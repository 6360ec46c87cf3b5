// make bench: runs every benchmark against the real local infra that `polyglot infra exec` started,
// and prints one JSON line per benchmark plus a readable table.
import { parseConfig } from '../core/src/config.js';
import { captionLatencyBench } from './captionLatency.js';
import { historyInsertBench } from './historyInsert.js';
import type { BenchResult } from './result.js';

const cfg = parseConfig(process.env);
const infra = { PC_NATS_URL: cfg.natsUrl, PC_DATABASE_URL: cfg.database.url, PC_REDIS_URL: cfg.redisUrl };
const results: BenchResult[] = [await historyInsertBench(cfg.database.url), await captionLatencyBench(infra)];
for (const r of results) {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`\n${r.name}\n${Object.entries(r.figures).map(([k, v]) => `  ${k.padEnd(30)} ${v}`).join('\n')}\n  (${r.notes})\n`);
}
