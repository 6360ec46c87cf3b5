/**
 * Property-based fuzzing of the WebSocket protocol against the real signaling entry point, with a
 * real SFU, NATS and Postgres behind it (fixtures/fuzzTarget.ts). Each case is one hostile socket
 * (fixtures/fuzzFrames.ts): valid messages of every type mutated in every way we could think of,
 * raw, binary and invalid UTF-8 frames, oversized and fragmented frames, floods, closes, in random
 * orders around a random auth. Properties, after every case:
 *   - the node still runs, and a control viewer still gets its pong and the next Spanish final;
 *   - every frame the socket got decodes with protocol.ts's server decoders, every error frame's
 *     code and the close code are in docs/protocol.md's tables, and none is our own fault
 *     (`internal`, 1011);
 * and over the whole run: the node's live heap and RSS stay within a stated bound, and its
 * socket count returns to the control viewer's one.
 *
 * Seeded: PC_FUZZ_SEED=<seed> reruns a failing run (the seed is printed), PC_FUZZ_RUNS sets the
 * case count (default 300).
 */
import fc from 'fast-check';
import tap from 'tap';
import { documentedCodes } from './fixtures/documentedCodes.js';
import { fuzzCase, type FuzzCase } from './fixtures/fuzzFrames.js';
import { FuzzSocket, type FuzzObservation } from './fixtures/FuzzSocket.js';
import { FuzzTarget, type ProcessMemory } from './fixtures/fuzzTarget.js';

const SEED = Number(process.env.PC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.PC_FUZZ_RUNS ?? 300);
const WARMUP_RUNS = 30;
/** Growth of the node's live heap (after a full GC) over the measured runs. */
const MAX_HEAP_GROWTH_BYTES = 8 * 1024 * 1024;
/** Growth of its RSS: the heap's bound plus room for the allocator keeping freed pages. */
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN);
}

const MiB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** What was wrong with one socket's answers; empty: all documented. */
function violations(obs: FuzzObservation, docs: ReturnType<typeof documentedCodes>): string[] {
  const out: string[] = [];
  if (obs.refusedUpgrade !== undefined) out.push(`upgrade refused with ${obs.refusedUpgrade}`);
  for (const u of obs.undecodable) out.push(`undecodable server frame: ${u}`);
  for (const f of obs.frames) {
    if (f.type !== 'error') continue;
    if (!docs.errorFrameCodes.has(f.code)) out.push(`undocumented error frame code ${f.code}`);
    if (f.code === 'internal') out.push(`internal error frame: ${f.message}`);
  }
  const close = obs.close;
  if (close === undefined) out.push('the socket never closed');
  else if (!close.terminated) {
    if (!docs.closeCodes.has(close.code)) out.push(`undocumented close code ${close.code} (${close.reason})`);
    if (close.code === 1011) out.push(`closed as our own fault: ${close.reason}`);
  }
  return out;
}

tap.test('WebSocket fuzz: no crash, bounded memory, every answer documented, the control viewer served', async (t) => {
  const target = await FuzzTarget.start(t);
  const docs = documentedCodes();
  t.comment(`fuzz seed ${SEED} (rerun with PC_FUZZ_SEED=${SEED}), ${RUNS} cases`);
  const closeCodes = new Map<number, number>();
  const errorCodes = new Map<string, number>();
  const caseMs: number[] = [];
  const frameTypes = new Map<string, number>();
  let frames = 0;
  let skipped = 0;

  const property = fc.asyncProperty(fuzzCase, async (c: FuzzCase) => {
    const started = performance.now();
    const obs = await FuzzSocket.play(target.wsUrl, target.tokens, c);
    caseMs.push(performance.now() - started);
    frames += obs.frames.length;
    for (const f of obs.frames) frameTypes.set(f.type, (frameTypes.get(f.type) ?? 0) + 1);
    skipped += obs.skipped;
    if (obs.close) closeCodes.set(obs.close.code, (closeCodes.get(obs.close.code) ?? 0) + 1);
    for (const f of obs.frames) if (f.type === 'error') errorCodes.set(f.code, (errorCodes.get(f.code) ?? 0) + 1);
    const wrong = violations(obs, docs);
    if (!target.alive) wrong.push('the signaling process exited');
    if (wrong.length > 0) throw new Error(wrong.join('\n'));
    try {
      await target.checkControl();
    } catch (err) {
      throw new Error(`${String(err)}; the node: ${await target.diagnose()}`, { cause: err });
    }
  });
  const run = async (seed: number, numRuns: number): Promise<void> => {
    try {
      await fc.assert(property, { seed, numRuns });
    } catch (err) {
      t.comment(`fuzz failed with seed ${seed}: rerun with PC_FUZZ_SEED=${seed}`);
      throw err;
    }
  };

  await run(SEED + 1, WARMUP_RUNS);
  t.equal(await target.settleConnections(1), 1, 'warm-up sockets all gone');
  const before: ProcessMemory = await target.memory();
  const started = performance.now();
  await run(SEED, RUNS);
  const seconds = (performance.now() - started) / 1000;
  t.equal(await target.settleConnections(1), 1, 'every fuzz socket is forgotten: only the control viewer is left');
  const after = await target.memory();

  t.ok(target.alive, 'the signaling process runs');
  t.same(target.errorLines(), [], 'no error logged by the node');
  t.ok(target.controlFinals >= RUNS + WARMUP_RUNS, `the control viewer got all ${target.controlFinals} finals and pongs during the fuzz`);
  t.ok(after.heapUsed - before.heapUsed <= MAX_HEAP_GROWTH_BYTES, `live heap ${MiB(before.heapUsed)} -> ${MiB(after.heapUsed)} (bound +${MiB(MAX_HEAP_GROWTH_BYTES)})`);
  t.ok(after.rss - before.rss <= MAX_RSS_GROWTH_BYTES, `RSS ${MiB(before.rss)} -> ${MiB(after.rss)} (bound +${MiB(MAX_RSS_GROWTH_BYTES)})`);
  t.comment(`${RUNS} cases in ${seconds.toFixed(1)} s; ${frames} server frames; ${skipped} steps skipped for the rate budget`);
  const { pong, final } = target.controlLatencyMs;
  t.comment(`case duration p50 ${percentile(caseMs, 0.5)} ms, max ${percentile(caseMs, 1)} ms; control pong p50 ${percentile(pong, 0.5)} ms, max ${percentile(pong, 1)} ms; control final p50 ${percentile(final, 0.5)} ms, max ${percentile(final, 1)} ms`);
  t.comment(`server frames by type ${JSON.stringify(Object.fromEntries(frameTypes))}`);
  t.comment(`close codes ${JSON.stringify(Object.fromEntries(closeCodes))}; error frames ${JSON.stringify(Object.fromEntries(errorCodes))}`);
});
