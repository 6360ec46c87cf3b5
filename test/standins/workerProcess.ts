// Runs a worker's main.ts as its own process, the way an operator starts it, and finds its gRPC
// address in the 'worker ready' log line.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';

export interface WorkerProcess {
  address: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Rejects with `describe()` if `promise` has not settled within `ms`: a guard against a hung test, not a wait. */
async function within<T>(ms: number, promise: Promise<T>, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startWorkerProcess(t: { teardown(fn: () => unknown): void }, source: string, env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, nodeArgsFor(source), {
    env: { ...process.env, PC_LOG_LEVEL: 'info', PC_METRICS_PORT: 'off', PC_GRPC_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: string[] = [];
  const ready = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof entry !== 'object' || entry === null) return;
      const msg: unknown = Reflect.get(entry, 'msg');
      const address: unknown = Reflect.get(entry, 'address');
      if (msg === 'worker ready' && typeof address === 'string') resolve(address);
    });
  });
  const address = await within(30_000, Promise.race([ready, exited.then(() => Promise.reject(new Error(`${source} exited; logs:\n${logs.join('\n')}`)))]), () => `no 'worker ready' from ${source}; logs:\n${logs.join('\n')}`);
  return {
    address,
    async stop() {
      child.kill('SIGTERM');
      const [code] = await within(15_000, exited, () => `${source} did not exit after SIGTERM`);
      return typeof code === 'number' ? code : null;
    },
  };
}
