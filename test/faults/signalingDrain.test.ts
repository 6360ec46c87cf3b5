// Fault 8d: a signaling node SIGTERMed with 1,000 viewers on it, a second node beside it. The
// leaving node tells each socket to reconnect (goaway) and drains; every viewer resumes on the
// other node after the last final seq it holds: no gap, no duplicate.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { freePort } from '../../core/src/infra/ports.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import type { ResumingViewer } from './support/ResumingViewer.js';
import { assertEveryFinalOnce, startFaultBed, until } from './support/faultBed.js';

const VIEWERS = 1_000;
const CONNECT_BATCH = 50;

t.test('1,000 viewers on a signaling node that is SIGTERMed resume on the other node', { timeout: 500_000 }, async (t) => {
  const bed = await startFaultBed(t);
  const port = await freePort();
  const second = spawn(process.execPath, nodeArgsFor('signaling/src/main.ts'), {
    env: { ...bed.platform.env, PC_HTTP_HOST: '127.0.0.1', PC_HTTP_PORT: String(port), PC_SIGNALING_METRICS_PORT: '0', PC_NODE_ID: 'leaving-node', PC_DRAIN_TIMEOUT_MS: '20000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = once(second, 'exit') as Promise<[number | null, string | null]>;
  t.teardown(() => {
    if (second.exitCode === null && second.signalCode === null) second.kill('SIGKILL');
  });
  await until('the second signaling node is ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, 30_000);
  const urls = [bed.wsUrl, `ws://127.0.0.1:${port}/ws`];

  const viewers: Record<string, ResumingViewer[]> = { en: [], es: [] };
  const connectStarted = Date.now();
  for (let i = 0; i < VIEWERS; i += CONNECT_BATCH) {
    await Promise.all(
      Array.from({ length: CONNECT_BATCH }, async (_, j) => {
        const lang = (i + j) % 2 === 0 ? 'es' : 'en';
        viewers[lang]!.push(await bed.viewer(lang, { urls, firstNode: 1 }));
      }),
    );
  }
  const all = [...viewers.en!, ...viewers.es!];
  t.equal(all.length, VIEWERS, `${VIEWERS} viewers on the leaving node (connected in ${Date.now() - connectStarted} ms)`);

  const publisher = await bed.publish();
  await until('every viewer has two finals', () => all.every((v) => v.lastSeq >= 2), 60_000);

  const termAt = Date.now();
  second.kill('SIGTERM');
  const movedMs = await until('every viewer resumed on the remaining node', () => all.every((v) => v.node === 0 && v.live), 60_000);
  const [code] = await exited;
  t.equal(code, 0, `the leaving node drained and exited cleanly (${Date.now() - termAt} ms after SIGTERM)`);
  t.equal(all.filter((v) => v.goaways === 1).length, VIEWERS, 'each viewer was told goaway once');
  t.equal(all.filter((v) => v.failure !== undefined).length, 0, 'no viewer gave up reconnecting');
  const moveMs = all.map((v) => (v.liveAt.at(-1) ?? termAt) - termAt).sort((a, b) => a - b);
  const failed = all.filter((v) => v.failedAttempts > 0);
  t.pass(
    `all ${VIEWERS} viewers resumed on the other node within ${movedMs} ms of SIGTERM ` +
      `(caught up there: p50 ${moveMs[Math.floor(VIEWERS / 2)]} ms, p99 ${moveMs[Math.floor(VIEWERS * 0.99)]} ms, max ${moveMs.at(-1)} ms; ` +
      `${failed.length} needed more than one attempt${failed[0] ? `, e.g. ${failed[0].failedAttempts}: ${failed[0].lastAttemptError}` : ''})`,
  );

  const resumedAt = { en: Math.max(...viewers.en!.map((v) => v.lastSeq)), es: Math.max(...viewers.es!.map((v) => v.lastSeq)) };
  await until('every viewer has a final published after the move', () => viewers.es!.every((v) => v.lastSeq > resumedAt.es) && viewers.en!.every((v) => v.lastSeq > resumedAt.en), 60_000);
  await publisher.stop();
  const counts = await assertEveryFinalOnce(t, bed, viewers, 60_000);
  t.comment(`finals ${JSON.stringify(counts)}; sockets opened: ${all.reduce((n, v) => n + v.connections, 0)}`);
});
