import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { portOf, type Config } from '../config.js';
import { credentialsFile, readCredentials } from './infraCredentials.js';
import type { InfraEnv, LocalInfraOptions } from './LocalInfra.js';

const stateSchema = z.object({
  pid: z.number().int().positive(),
  env: z.object({ PC_NATS_URL: z.string(), PC_DATABASE_URL: z.string(), PC_REDIS_URL: z.string(), PC_INFRA_CREDENTIALS_FILE: z.string().optional() }),
});

/** What `polyglot infra run` leaves in $PC_DATA_DIR/infra/state.json (0600: its URLs carry passwords) while it runs. */
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


/**
 * `cfg` with the local infra's generated credentials filled in where the environment gives none,
 * so `polyglot watch`, `publish` and `migrate` work against `polyglot up` or `polyglot infra up` on
 * this machine as they did before there were passwords: NATS as the CLI role, Postgres and Redis
 * with their passwords. Only where the environment sets no server at all (the defaults, which are
 * where the local infra listens); a machine without the file is left alone.
 */
export async function withLocalCredentials(cfg: Config, env: NodeJS.ProcessEnv): Promise<Config> {
  const file = credentialsFile(path.join(cfg.dataDir, 'infra'));
  if (!existsSync(file)) return cfg;
  const credentials = await readCredentials(file);
  const natsAuth = env.PC_NATS_URL || env.PC_NATS_USER || env.PC_NATS_CREDS_FILE ? cfg.natsAuth : { ...credentials.nats.cli };
  const database = new URL(cfg.database.url);
  if (!env.PC_DATABASE_URL) database.password = credentials.postgres.password;
  const redis = new URL(cfg.redisUrl);
  if (!env.PC_REDIS_URL) {
    redis.username = credentials.redis.user;
    redis.password = credentials.redis.password;
  }
  return { ...cfg, natsAuth, database: { ...cfg.database, url: database.toString() }, redisUrl: redis.toString() };
}
