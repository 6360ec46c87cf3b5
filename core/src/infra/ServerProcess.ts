import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';

/**
 * Runs the server under a tiny shell watchdog that holds our end of a pipe on its stdin: when this
 * Node process dies for any reason (Ctrl-C, a crashed test, SIGKILL), the pipe closes and the
 * watchdog stops the server, so no orphan outlives the run. The server itself gets /dev/null as
 * stdin (an explicit fd 3 keeps the pipe away from it).
 */
const WATCHDOG = [
  'exec 3<&0 </dev/null',
  '"$@" & server=$!',
  '{ read -r _ <&3; kill -s "$PC_STOP_SIGNAL" "$server" 2>/dev/null; } &',
  'wait "$server"',
].join('\n');

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: string[];
  /** The signal that makes this server shut down quickly and cleanly (Postgres: SIGINT, fast shutdown). */
  stopSignal: NodeJS.Signals;
  /** Run as this uid/gid (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** A file descriptor that receives the server's stdout and stderr (its log); default: stderr kept in memory for errors. */
  output?: number;
  log: Logger;
}

export class ServerProcessExitedError extends Error {
  constructor(name: string, code: number | null, signal: string | null, stderrTail: string) {
    super(`${name} exited (code ${code ?? '-'}, signal ${signal ?? '-'}) ${stderrTail ? `: ${stderrTail}` : ''}`);
    this.name = 'ServerProcessExitedError';
  }
}

/** A child server process owned by this Node process; stop() is idempotent. */
export class ServerProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #log: Logger;
  #stderrTail = '';
  #exit: { code: number | null; signal: string | null } | undefined;
  #stopping: Promise<void> | undefined;

  constructor(opts: ServerProcessOptions) {
    this.name = opts.name;
    this.#log = opts.log.child({ server: opts.name });
    this.#child = spawn('/bin/sh', ['-c', WATCHDOG, 'watchdog', opts.command, ...opts.args], {
      stdio: opts.output === undefined ? ['pipe', 'ignore', 'pipe'] : ['pipe', opts.output, opts.output],
      cwd: '/', // the server may run as another user who cannot read our working directory
      // Its own process group, so a stuck server can be killed together with its watchdog.
      detached: true,
      env: { ...(opts.env ?? process.env), PC_STOP_SIGNAL: opts.stopSignal.replace(/^SIG/, '') },
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
    this.#child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderrTail = (this.#stderrTail + chunk).slice(-2000);
    });
    this.#exited = once(this.#child, 'exit').then(([code, signal]) => {
      this.#exit = { code: code as number | null, signal: signal as string | null };
      if (!this.#stopping) this.#log.warn({ ...this.#exit, stderr: this.#stderrTail }, 'server exited on its own');
    });
  }

  /** Resolves when the process has exited, for whatever reason. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** False once the process has exited. */
  get running(): boolean {
    return this.#exit === undefined;
  }

  /** Rejects if the server has exited; readiness probes call it between attempts. */
  assertRunning(): void {
    if (this.#exit) throw new ServerProcessExitedError(this.name, this.#exit.code, this.#exit.signal, this.#stderrTail.trim());
  }

  /**
   * Polls `probe` until it answers true, failing at once if the server exits and after `timeoutMs`
   * otherwise. The probe asks the server itself (a query, a PING), so ready means ready.
   */
  async waitReady(probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      this.assertRunning();
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name} not ready after ${timeoutMs} ms`, { cause: lastError });
      }
      await delay(50);
    }
  }

  stop(timeoutMs = 10_000): Promise<void> {
    this.#stopping ??= this.#stop(timeoutMs);
    return this.#stopping;
  }

  async #stop(timeoutMs: number): Promise<void> {
    if (this.#exit) return;
    this.#child.stdin?.end();
    const timer = setTimeout(() => {
      this.#log.warn({ timeoutMs }, 'server did not stop in time, killing it');
      if (this.#child.pid !== undefined) process.kill(-this.#child.pid, 'SIGKILL');
    }, timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
