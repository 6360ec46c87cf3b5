/**
 * Property-based fuzzing of the HTTP side of a signaling node (REST API, health, pages, the
 * upgrade), against the real entry point with real backends (fixtures/fuzzTarget.ts). Requests are
 * raw bytes (fixtures/fuzzRequests.ts), so odd methods, paths, headers and lying lengths get through.
 * Properties, after every request:
 *   - the node still runs, and a control viewer still gets its pong and the next Spanish final;
 *   - the answer is a success, a WebSocket upgrade, or a status of docs/protocol.md's REST table
 *     with a JSON body `{error:{code,message}}` whose code is the one documented with it; never 500;
 * and over the run: live heap and RSS within a stated bound, no error logged by the node.
 *
 * Seeded: PC_FUZZ_SEED=<seed> reruns a failing run (the seed is printed), PC_FUZZ_RUNS sets the
 * request count (default 300).
 */
import fc from 'fast-check';
import tap from 'tap';
import { documentedCodes } from './fixtures/documentedCodes.js';
import { requestBytes, requestCase, type RequestCase } from './fixtures/fuzzRequests.js';
import { FuzzTarget } from './fixtures/fuzzTarget.js';
import { RawHttp, type RawResponse } from './fixtures/RawHttp.js';

const SEED = Number(process.env.PC_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.PC_FUZZ_RUNS ?? 300);
const WARMUP_RUNS = 30;
const MAX_HEAP_GROWTH_BYTES = 8 * 1024 * 1024;
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;
const SUCCESS = new Set([200, 201, 101]);

const MiB = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** What is wrong with one answer; empty: documented. */
export function answerViolations(res: RawResponse | undefined, c: RequestCase, docs: ReturnType<typeof documentedCodes>): string[] {
  if (res === undefined) {
    // A request whose declared length is longer than what was sent cannot be answered before
    // the connection ends; every other request must be.
    return c.length === 'huge' && c.body.kind === 'none' ? [] : ['the connection closed without a response'];
  }
  if (SUCCESS.has(res.status)) return [];
  const codes = docs.httpErrors.get(res.status);
  const out: string[] = [];
  if (!codes || res.status >= 500 && res.status !== 503) out.push(`status ${res.status} is not a documented answer`);
  if (c.method.toUpperCase() === 'HEAD') return out;
  if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) out.push(`status ${res.status} with content-type ${res.headers.get('content-type')}: ${res.body.toString('latin1').slice(0, 120)}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    out.push(`status ${res.status} with a body that is not JSON: ${res.body.toString('latin1').slice(0, 120)}`);
    return out;
  }
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
  if (typeof code !== 'string' || typeof message !== 'string') out.push(`status ${res.status} without {error:{code,message}}: ${JSON.stringify(body).slice(0, 120)}`);
  else if (codes && !codes.has(code)) out.push(`status ${res.status} with code ${code}, documented: ${[...codes].join(', ')}`);
  return out;
}

tap.test('REST fuzz: no crash, bounded memory, every answer a documented status with a JSON error, the control viewer served', async (t) => {
  const target = await FuzzTarget.start(t);
  const docs = documentedCodes();
  t.comment(`fuzz seed ${SEED} (rerun with PC_FUZZ_SEED=${SEED}), ${RUNS} requests`);
  const statuses = new Map<number, number>();
  const ctx = { session: target.session, otherSession: target.otherSession, endedSession: target.endedSession, tokens: target.tokens };

  const property = fc.asyncProperty(requestCase, async (c: RequestCase) => {
    const res = await RawHttp.send(target.port, requestBytes(c, ctx));
    const status = res?.status ?? 0;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    const wrong = answerViolations(res, c, docs);
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
  t.equal(await target.settleConnections(1), 1, 'warm-up upgrades all gone');
  const before = await target.memory();
  const started = performance.now();
  await run(SEED, RUNS);
  const seconds = (performance.now() - started) / 1000;
  t.equal(await target.settleConnections(1), 1, 'upgraded fuzz sockets are forgotten: only the control viewer is left');
  const after = await target.memory();

  t.ok(target.alive, 'the signaling process runs');
  t.same(target.errorLines(), [], 'no error logged by the node');
  t.ok(target.controlFinals >= RUNS + WARMUP_RUNS, `the control viewer got all ${target.controlFinals} finals during the fuzz`);
  t.ok(after.heapUsed - before.heapUsed <= MAX_HEAP_GROWTH_BYTES, `live heap ${MiB(before.heapUsed)} -> ${MiB(after.heapUsed)} (bound +${MiB(MAX_HEAP_GROWTH_BYTES)})`);
  t.ok(after.rss - before.rss <= MAX_RSS_GROWTH_BYTES, `RSS ${MiB(before.rss)} -> ${MiB(after.rss)} (bound +${MiB(MAX_RSS_GROWTH_BYTES)})`);
  t.comment(`${RUNS} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
});
