import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../core/src/config.js';
import { LocalInfra, type InfraEnv } from '../../core/src/infra/LocalInfra.js';
import { writeOwnerOnly } from '../../core/src/infra/infraCredentials.js';
import { infraStateFile, isAlive, persistentInfraOptions, readInfraState } from '../../core/src/infra/infraState.js';
import { UsageError } from './UsageError.js';

const USAGE = `usage: polyglot infra <command>
  up          start NATS, Postgres and Redis in the background, data in $PC_DATA_DIR/infra
  down        stop what 'up' started
  status      say whether it runs, and where
  run         like 'up' but in the foreground (Ctrl-C stops it)
  exec -- CMD start a throwaway set on free ports, run CMD with PC_*_URL set, stop it when CMD ends`;

export async function infraCommand(args: string[], cfg: Config): Promise<number> {
  const [sub, ...rest] = args;
  const stateFile = infraStateFile(cfg);
  switch (sub) {
    case 'run':
      return runForeground(cfg, stateFile);
    case 'up':
      return up(cfg, stateFile);
    case 'down':
      return down(stateFile);
    case 'status':
      return status(stateFile);
    case 'exec':
      return exec(rest[0] === '--' ? rest.slice(1) : rest);
    default:
      throw new UsageError(USAGE);
  }
}

function printEnv(env: InfraEnv): void {
  for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${v}\n`);
}

/** Runs until SIGINT/SIGTERM; the detached form of `up` is this same code in a child process. */
async function runForeground(cfg: Config, stateFile: string): Promise<number> {
  if (await readInfraState(stateFile)) throw new UsageError(`infra already runs (see 'polyglot infra status')`);
  const infra = await LocalInfra.start(persistentInfraOptions(cfg));
  await writeOwnerOnly(stateFile, JSON.stringify({ pid: process.pid, env: infra.env }));
  process.send?.({ infraReady: true });
  printEnv(infra.env);
  await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  await infra.stop();
  await rm(stateFile, { force: true });
  return 0;
}

async function up(cfg: Config, stateFile: string): Promise<number> {
  const running = await readInfraState(stateFile);
  if (running) {
    printEnv(running.env);
    return 0;
  }
  await mkdir(path.dirname(stateFile), { recursive: true });
  const logFile = path.join(path.dirname(stateFile), 'infra.log');
  const out = openSync(logFile, 'a');
  const cli = process.argv[1];
  if (!cli) throw new Error('cannot tell where the polyglot CLI script is');
  const child = spawn(process.execPath, [...process.execArgv, cli, 'infra', 'run'], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: process.env,
  });
  const outcome = await new Promise<'ready' | 'exited'>((resolve) => {
    // Only our own message counts: a test runner's instrumentation may use the same IPC channel.
    child.on('message', (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && 'infraReady' in msg) resolve('ready');
    });
    child.once('exit', () => resolve('exited'));
  });
  if (outcome === 'exited') {
    process.stderr.write(`polyglot infra up: failed to start; see ${logFile}\n`);
    return 1;
  }
  child.disconnect();
  child.unref();
  const state = await readInfraState(stateFile);
  if (state) printEnv(state.env);
  return 0;
}

async function down(stateFile: string): Promise<number> {
  const state = await readInfraState(stateFile);
  if (!state) {
    process.stdout.write('infra is not running\n');
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline) {
      process.stderr.write(`polyglot infra down: process ${state.pid} still runs after 30 s\n`);
      return 1;
    }
    await delay(100);
  }
  process.stdout.write('infra stopped\n');
  return 0;
}

async function status(stateFile: string): Promise<number> {
  const state = await readInfraState(stateFile);
  if (!state) {
    process.stdout.write('infra is not running\n');
    return 3;
  }
  process.stdout.write(`infra runs (pid ${state.pid})\n`);
  printEnv(state.env);
  return 0;
}

/** Throwaway infra around one command: how `make test` gives the whole tap run one shared set. */
async function exec(command: string[]): Promise<number> {
  const [file, ...args] = command;
  if (!file) throw new UsageError('usage: polyglot infra exec -- CMD [ARGS...]');
  const infra = await LocalInfra.start();
  try {
    const child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...infra.env, PC_TEST_INFRA: '1' } });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    process.off('SIGINT', forward).off('SIGTERM', forward);
    return code ?? 128 + (signal ? os.constants.signals[signal] : 0);
  } finally {
    await infra.stop();
  }
}
