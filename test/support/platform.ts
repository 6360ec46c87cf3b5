import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { z } from 'zod';
import type { InfraEnv } from '../../core/src/infra/LocalInfra.js';
import { freePort } from '../../core/src/infra/ports.js';
import { DEV_JWT_SECRET, signDevToken } from '../../signaling/src/devToken.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';

export interface RunningPlatform {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  /** The `polyglot up` process (its services are its descendants). */
  pid: number;
  /** Its exit code, or null while it runs. */
  exitCode(): number | null;
  /** SIGTERM, then the exit code. Idempotent. */
  stop(): Promise<number | null>;
}

/**
 * `polyglot up --no-sample --no-infra` on the given infra, every port free: the whole platform
 * (history, SFU, local speech and translation workers, signaling) as a user runs it.
 */
export async function startPlatform(infra: InfraEnv, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningPlatform> {
  const httpPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...infra,
    PC_LOG_LEVEL: process.env.PC_LOG_LEVEL ?? 'warn',
    PC_ENV: 'development',
    PC_HTTP_PORT: String(httpPort),
    PC_HISTORY_METRICS_PORT: String(await freePort()),
    PC_SFU_METRICS_PORT: String(await freePort()),
    PC_SIGNALING_METRICS_PORT: String(await freePort()),
    PC_SFU_WORKERS: '1',
    ...extraEnv,
  };
  const child: ChildProcess = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'up', '--no-sample', '--no-infra'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('Press Ctrl-C to stop.')) resolve();
    });
    void exited.then(([code]) => reject(new Error(`polyglot up exited early (${code}): ${out.slice(-2000)}`)));
  });
  let stopping: Promise<number | null> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${httpPort}`,
    env,
    pid: child.pid ?? -1,
    exitCode: () => child.exitCode,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return (await exited)[0];
      })();
      return stopping;
    },
  };
}

const createdSchema = z.object({ session: z.object({ id: z.string().uuid() }), viewerUrl: z.string().url(), hostUrl: z.string().url() });

/** A live session created through the REST API as a host would, with the development secret. */
export async function createLiveSession(baseUrl: string, org: string, sourceLanguage = 'en'): Promise<{ session: string; viewerUrl: string; hostToken: string }> {
  const restToken = await signDevToken(DEV_JWT_SECRET, { org, sub: 'host-1', role: 'host', name: 'Host', ttlSeconds: 3_600 });
  const created = await fetch(`${baseUrl}/api/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${restToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Test session', sourceLanguage }),
  });
  const parsed = createdSchema.parse(await created.json());
  const started = await fetch(`${baseUrl}/api/sessions/${parsed.session.id}/start`, { method: 'POST', headers: { authorization: `Bearer ${restToken}` } });
  if (!started.ok) throw new Error(`starting the session failed: ${started.status}`);
  const hostToken = await signDevToken(DEV_JWT_SECRET, { org, sub: 'host-1', role: 'host', session: parsed.session.id, name: 'Host', ttlSeconds: 3_600 });
  return { session: parsed.session.id, viewerUrl: parsed.viewerUrl, hostToken };
}
