// make bench: runs every benchmark against the real local infra that `polyglot infra exec` started,
// and prints one JSON line per benchmark plus a readable table.
import { parseConfig } from '../core/src/config.js';
import { historyInsertBench, type BenchResult } from './historyInsert.js';

const cfg = parseConfig(process.env);
const results: BenchResult[] = [await historyInsertBench(cfg.database.url)];
for (const r of results) {
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.stdout.write(`\n${r.name}\n${Object.entries(r.figures).map(([k, v]) => `  ${k.padEnd(20)} ${v}`).join('\n')}\n  (${r.notes})\n`);
}
