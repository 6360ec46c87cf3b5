import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import type { Logger } from 'pino';

import { QuotaExceededError, SafeEmitter, TimeoutError, UnavailableError } from '../../sdk/src/index.js';

const execFileAsync = promisify(execFile);

export interface ApertiumPipelineOptions {
  /** Mode name, e.g. 'eng-spa' (a file <modesDir>/<mode>.mode). */
  mode: string;
  modesDir: string;
  log: Logger;
  /** A request unanswered for this long means the pipeline hangs: it is restarted. Default 10 000. */
  requestTimeoutMs?: number;
  /** Requests in flight before QuotaExceededError. Default 10 000. */
  maxPending?: number;
}

export type ApertiumPipelineEvents = {
  /** The pipeline died or hung and was started again; requests in flight were sent again. */
  restart: [{ reason: string; resent: number }];
};

interface Pending {
  id: number;
  text: string;
  resolve: (text: string) => void;
  reject: (err: Error) => void;
  sentAt: number;
}

/** Restarts in a row (no answer in between) before requests fail instead of waiting. */
const MAX_RESTARTS_IN_ROW = 5;

/** How often the stages are checked: a dead middle stage leaves bash (and our pipes) open. */
const PROBE_INTERVAL_MS = 250;

/**
 * Every request starts with this superblank, which Apertium copies to the output untouched: an
 * answer names its request, so output that a dying pipeline flushes is never taken for one.
 */
const MARKER = /^\s*\[pc:(\d+)\]/;

/**
 * One long-lived Apertium pipeline for one mode, in null-flush mode: each request is the escaped
 * text followed by "\n\0"; the pipeline answers with the translation followed by "\0", in order,
 * so many requests can be in flight at once (FIFO). We run the mode's shell pipeline directly
 * (from `apertium-wblank-mode -z`), not the `apertium` wrapper, which delays or loses flushes.
 *
 * The pipeline runs as its own process group. If any stage dies (its output closes) or a request
 * stays unanswered for requestTimeoutMs, the group is killed, a new one started, and every request
 * in flight sent again: a translation has no side effects, so sending it twice is harmless.
 */
export class ApertiumPipeline extends SafeEmitter<ApertiumPipelineEvents> {
  readonly mode: string;
  readonly #modeFile: string;
  readonly #log: Logger;
  readonly #requestTimeoutMs: number;
  readonly #maxPending: number;
  readonly #pending: Pending[] = [];
  #script: string | undefined;
  #process: ChildProcessWithoutNullStreams | undefined;
  #output = '';
  #stderr: string[] = [];
  #watchdog: NodeJS.Timeout | undefined;
  #probe: NodeJS.Timeout | undefined;
  #stagePids: number[] = [];
  #nextId = 1;
  #restartsInRow = 0;
  #restarts = 0;
  #closed = false;

  constructor({ mode, modesDir, log, requestTimeoutMs = 10_000, maxPending = 10_000 }: ApertiumPipelineOptions) {
    super(log);
    this.mode = mode;
    this.#modeFile = path.join(modesDir, `${mode}.mode`);
    this.#log = log.child({ mode });
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#maxPending = maxPending;
  }

  /** Starts the pipeline and waits for a first translation (Apertium loads its data lazily: ~1 s). */
  async start(): Promise<void> {
    try {
      this.#script = (await execFileAsync('apertium-wblank-mode', ['-z', this.#modeFile], { encoding: 'utf8' })).stdout;
    } catch (err) {
      throw new UnavailableError(`cannot read Apertium mode ${this.#modeFile} (is its Debian package apertium-* installed?)`, err);
    }
    this.#spawn();
    await this.translate('Hello.');
  }

  /** Requests sent and not answered yet. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Times the pipeline was started again. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Process ids of the pipeline's stages (for tests that kill one). */
  stagePidsForTesting(): number[] {
    const pid = this.#process?.pid;
    if (pid === undefined) return [];
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /**
   * Translates one text (newlines become spaces). `signal` only stops the wait: the request is
   * already in the pipeline and its answer is read and dropped, which keeps the FIFO in step.
   */
  translate(text: string, signal?: AbortSignal): Promise<string> {
    if (this.#closed) return Promise.reject(new UnavailableError(`Apertium ${this.mode} is closed`));
    if (this.#pending.length >= this.#maxPending) {
      return Promise.reject(new QuotaExceededError(`Apertium ${this.mode} has ${this.#pending.length} requests in flight; retry later`));
    }
    return new Promise<string>((resolve, reject) => {
      const request: Pending = { id: this.#nextId++, text: escape(text), resolve, reject, sentAt: performance.now() };
      this.#pending.push(request);
      this.#send(request);
      this.#armWatchdog();
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }

  /** Stops the pipeline; requests in flight fail with UnavailableError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#watchdog);
    clearInterval(this.#probe);
    this.#kill();
    for (const request of this.#pending.splice(0)) request.reject(new UnavailableError(`Apertium ${this.mode} closed`));
  }

  #spawn(): void {
    if (!this.#script) throw new Error('ApertiumPipeline: start() first');
    // $1 = generator flag (-n: do not mark unknown words with '*'), $2 = tagger flag (none).
    const child = spawn('bash', ['-c', this.#script, `apertium-${this.mode}`, '-n', ''], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.#process = child;
    this.#output = '';
    this.#stderr = [];
    this.#stagePids = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.#onOutput(child, chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.#stderr.push(chunk);
      if (this.#stderr.length > 20) this.#stderr.shift();
    });
    // The last stage closing its output is the first sign of a dead stage; bash may linger.
    child.stdout.once('close', () => this.#onDeath(child, 'output closed'));
    child.once('exit', (code, signal) => this.#onDeath(child, `exited (code ${code}, signal ${signal})`));
    child.stdin.on('error', (err) => this.#onDeath(child, `stdin: ${err.message}`));
  }

  #send(request: Pending): void {
    this.#process?.stdin.write(`[pc:${request.id}]${request.text}\n\0`);
  }

  #onOutput(child: ChildProcessWithoutNullStreams, chunk: string): void {
    if (child !== this.#process) return;
    this.#output += chunk;
    for (let end = this.#output.indexOf('\0'); end >= 0; end = this.#output.indexOf('\0')) {
      const answer = this.#output.slice(0, end);
      this.#output = this.#output.slice(end + 1);
      const id = Number(MARKER.exec(answer)?.[1] ?? NaN);
      const head = this.#pending[0];
      // No marker: what a dying stage flushed. An older id: the answer to a request that was sent
      // again after a restart and answered twice. Neither is an answer to the head of the queue.
      if (!head || !(id >= head.id)) continue;
      if (id > head.id) {
        this.#restart(`answer ${id} arrived while ${head.id} was expected`);
        return;
      }
      this.#pending.shift();
      this.#restartsInRow = 0;
      head.resolve(unescape(answer.replace(MARKER, '')).replace(/\s+/g, ' ').trim());
    }
    if (this.#stagePids.length === 0) this.#watchStages(child);
    this.#armWatchdog();
  }

  /** Once the pipeline answered, its stages all exist: remember them and check they stay alive. */
  #watchStages(child: ChildProcessWithoutNullStreams): void {
    this.#stagePids = this.stagePidsForTesting();
    clearInterval(this.#probe);
    this.#probe = setInterval(() => {
      if (child !== this.#process) return;
      const dead = this.#stagePids.find((pid) => !isAlive(pid));
      if (dead !== undefined) this.#onDeath(child, `stage ${dead} died`);
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }

  #onDeath(child: ChildProcessWithoutNullStreams, reason: string): void {
    if (child !== this.#process || this.#closed) return;
    this.#restart(`pipeline ${reason}; stderr: ${this.#stderr.join('').trim().slice(-500) || '(none)'}`);
  }

  #restart(reason: string): void {
    this.#kill();
    this.#restarts++;
    if (++this.#restartsInRow > MAX_RESTARTS_IN_ROW) {
      this.#log.error({ reason }, 'Apertium keeps failing; failing the requests in flight');
      for (const request of this.#pending.splice(0)) request.reject(new UnavailableError(`Apertium ${this.mode} keeps failing: ${reason}`));
      this.#restartsInRow = 0;
    }
    this.#log.warn({ reason, resend: this.#pending.length }, 'Apertium pipeline restarted');
    this.#spawn();
    for (const request of this.#pending) this.#send(request);
    this.safeEmit('restart', { reason, resent: this.#pending.length });
    this.#armWatchdog();
  }

  /** Kills the whole process group (every stage), not just bash. */
  #kill(): void {
    const child = this.#process;
    this.#process = undefined;
    if (!child?.pid) return;
    child.stdin.destroy();
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone: the group died with its last stage.
    }
  }

  /** One timer for the oldest request in flight: unanswered past the timeout means a hung pipeline. */
  #armWatchdog(): void {
    clearTimeout(this.#watchdog);
    const oldest = this.#pending[0];
    if (!oldest || this.#closed) return;
    const due = oldest.sentAt + this.#requestTimeoutMs - performance.now();
    this.#watchdog = setTimeout(() => {
      const stuck = this.#pending[0];
      if (stuck !== oldest) return this.#armWatchdog();
      // Restarted requests get a fresh deadline; one that fails every time is given up on.
      if (this.#restartsInRow >= MAX_RESTARTS_IN_ROW) {
        this.#pending.shift();
        stuck.reject(new TimeoutError(`Apertium ${this.mode} did not answer within ${this.#requestTimeoutMs} ms`));
      }
      for (const request of this.#pending) request.sentAt = performance.now();
      this.#restart(`no answer within ${this.#requestTimeoutMs} ms`);
    }, Math.max(0, due));
    this.#watchdog.unref();
  }
}

/** Whether a process exists and is not a zombie (Linux /proc). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * No deformatter runs in front of the pipeline, so Apertium's stream metacharacters are escaped
 * here, and newlines (which would end a sentence block) become spaces.
 */
function escape(text: string): string {
  return text.replace(/[\0\r\n]+/g, ' ').replace(/[\\[\]^$/<>@{}*#+|~]/g, (c) => `\\${c}`);
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}
