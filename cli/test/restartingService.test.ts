import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ServerProcess } from '../../core/src/infra/ServerProcess.js';
import { freePort } from '../../core/src/infra/ports.js';
import { moduleLog } from '../../core/src/log.js';
import { RestartingService } from '../src/RestartingService.js';

const log = moduleLog('restarting-test');

/** A real process: an HTTP server answering its pid, which exits by itself after `exitAfterMs` when given. */
function service(port: number, exitAfterMs?: number): () => ServerProcess {
  const script = [
    `const server = require('node:http').createServer((_q, r) => r.end(String(process.pid)));`,
    `server.listen(${port}, '127.0.0.1'${exitAfterMs === undefined ? '' : `, () => setTimeout(() => process.exit(3), ${exitAfterMs})`});`,
  ].join('\n');
  return () => new ServerProcess({ name: 'toy', command: process.execPath, args: ['-e', script], stopSignal: 'SIGTERM', log });
}

async function pidAt(port: number): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return Number(await res.text());
  } catch {
    return undefined;
  }
}

/** The server under its watchdog shell (the shell's only child). */
async function serverPid(watchdogPid: number): Promise<number> {
  const children = (await readFile(`/proc/${watchdogPid}/task/${watchdogPid}/children`, 'utf8')).trim().split(/\s+/).map(Number);
  const [pid] = children;
  if (pid === undefined || !Number.isInteger(pid)) throw new Error(`no child under ${watchdogPid}`);
  return pid;
}

function bounded<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

t.test('a SIGKILLed process is started again, ready, and stop() ends it for good', async (t) => {
  const port = await freePort();
  let restarted!: () => void;
  const restartedOnce = new Promise<void>((resolve) => (restarted = resolve));
  const supervised = new RestartingService({
    name: 'toy',
    spawn: service(port),
    ready: async () => (await pidAt(port)) !== undefined,
    policy: { initialDelayMs: 50, maxDelayMs: 1_000, fastCrashMs: 30_000, maxFastCrashes: 3, readyTimeoutMs: 20_000 },
    log,
    onRestarted: () => restarted(),
  });
  t.teardown(() => supervised.stop(5_000));
  await supervised.start();
  const before = await pidAt(port);
  const watchdog = supervised.pid;
  if (before === undefined || watchdog === undefined) throw new Error('not running');
  t.equal(await serverPid(watchdog), before, 'the server answers with its pid');

  process.kill(before, 'SIGKILL');
  await bounded(20_000, 'restart', restartedOnce);
  const after = await pidAt(port);
  t.ok(after !== undefined && after !== before, `a new instance answers (pid ${before} -> ${after})`);
  t.equal(supervised.restarts, 1, 'one restart');

  await supervised.stop(5_000);
  t.equal(await pidAt(port), undefined, 'stopped: nothing answers');
  const gaveUp = await Promise.race([supervised.gaveUp.then(() => 'gave up'), new Promise<string>((resolve) => setImmediate(() => resolve('pending')))]);
  t.equal(gaveUp, 'pending', 'a stop is not giving up');
});

t.test('a process that keeps crashing fast is restarted with growing delays, then given up with a reason', async (t) => {
  const port = await freePort();
  let starts = 0;
  const backoffs: number[] = [];
  const spawnToy = service(port, 800);
  const supervised = new RestartingService({
    name: 'toy',
    spawn: () => {
      starts += 1;
      return spawnToy();
    },
    onBackoff: (delayMs) => backoffs.push(delayMs),
    ready: async () => (await pidAt(port)) !== undefined,
    policy: { initialDelayMs: 200, maxDelayMs: 5_000, fastCrashMs: 30_000, maxFastCrashes: 3, readyTimeoutMs: 20_000 },
    log,
  });
  t.teardown(() => supervised.stop(5_000));
  await supervised.start();
  const reason = await bounded(30_000, 'give up', supervised.gaveUp);
  t.match(reason, /toy crashed 3 times in a row, each within 30000 ms of starting; not restarting it again/, 'the reason says why');
  t.equal(starts, 3, 'started 3 times (the first start and 2 restarts)');
  t.same(backoffs, [200, 400], 'the backoff doubles after each fast crash');
  t.equal(supervised.restarts, 2, 'two restarts before giving up');
});
