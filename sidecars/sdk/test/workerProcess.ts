import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

import { nodeArgsFor } from '../../../core/src/process/nodeArgs.js';

export interface WorkerReady {
  address: string;
  /** performance.now() when the 'worker ready' log line arrived. */
  at: number;
}

/**
 * A language worker's main.ts running as a child process, as in production. `ready` resolves
 * on its 'worker ready' log line; `exited` on its exit. The test's teardown stops it (SIGTERM,
 * then SIGKILL if it does not exit within 10 s).
 */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<WorkerReady>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly spawnedAt = performance.now();
  /** Log lines (JSON) of the process, for diagnosis. */
  readonly lines: string[] = [];

  constructor(t: { teardown(fn: () => unknown): void }, source: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, nodeArgsFor(source), {
      env: { ...process.env, PC_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code: typeof code === 'number' ? code : null, signal: isSignal(signal) ? signal : null }));
    const stderr: string[] = [];
    this.child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    this.ready = new Promise<WorkerReady>((resolve, reject) => {
      const lines = createInterface({ input: this.child.stdout ?? process.stdin });
      lines.on('line', (line) => {
        this.lines.push(line);
        const address = readyAddress(line);
        if (address !== undefined) resolve({ address, at: performance.now() });
      });
      void this.exited.then(({ code, signal }) =>
        reject(new Error(`${source} exited (code ${code}, signal ${signal}) before it was ready:\n${stderr.join('')}${this.lines.slice(-5).join('\n')}`)),
      );
    });
    this.ready.catch(() => undefined);
    t.teardown(() => this.stop());
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('worker process has no pid');
    return pid;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The address in a pino 'worker ready' line, else undefined. */
function readyAddress(line: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Reflect.get(parsed, 'msg') !== 'worker ready') return undefined;
  const address: unknown = Reflect.get(parsed, 'address');
  return typeof address === 'string' ? address : undefined;
}

function isSignal(value: unknown): value is NodeJS.Signals {
  return typeof value === 'string' && value.startsWith('SIG');
}
