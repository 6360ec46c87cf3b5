import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { portOf, type Config } from '../config.js';
import type { InfraEnv, LocalInfraOptions } from './LocalInfra.js';

const stateSchema = z.object({
  pid: z.number().int().positive(),
  env: z.object({ PC_NATS_URL: z.string(), PC_DATABASE_URL: z.string(), PC_REDIS_URL: z.string() }),
});

/** What `polyglot infra run` leaves in $PC_DATA_DIR/infra/state.json while it runs. */
export interface InfraState {
  pid: number;
  env: InfraEnv;
}

export function infraStateFile(cfg: Config): string {
  return path.join(cfg.dataDir, 'infra', 'state.json');
}

/** The long-lived local infra of `polyglot infra up` and `polyglot up`: data in PC_DATA_DIR, the configured ports. */
export function persistentInfraOptions(cfg: Config): LocalInfraOptions {
  return {
    dataDir: path.join(cfg.dataDir, 'infra'),
    ports: { nats: portOf(cfg.natsUrl, 4222), postgres: portOf(cfg.database.url, 5432), redis: portOf(cfg.redisUrl, 6379) },
    database: new URL(cfg.database.url).pathname.slice(1) || 'polyglot',
  };
}

/** The running infra's state, or undefined when none runs (a stale file is ignored). */
export async function readInfraState(stateFile: string): Promise<InfraState | undefined> {
  const text = await readFile(stateFile, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined; // a file cut short by a crash: nothing runs that we could talk to
  }
  const parsed = stateSchema.safeParse(json);
  return parsed.success && isAlive(parsed.data.pid) ? parsed.data : undefined;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

