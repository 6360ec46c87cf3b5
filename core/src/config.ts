import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describeValue } from './secrets.js';
import { tryCanonicalLanguageTag } from './languages/languageTag.js';
import type { NatsAuth } from './natsConnectOptions.js';

/**
 * Every setting of every process, parsed once from the environment in a process's main and passed
 * down as typed objects. docs/configuration.md documents each variable; keep the two in step.
 */
const env = z.object({
  PC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PC_NATS_URL: z.string().url().default('nats://127.0.0.1:4222'),
  PC_NATS_USER: z.string().min(1).optional(),
  PC_NATS_PASSWORD: z.string().min(1).optional(),
  PC_NATS_CREDS_FILE: z.string().min(1).optional(),
  PC_WORKER_TLS_CA: z.string().min(1).optional(),
  PC_WORKER_CLIENT_TLS_CERT: z.string().min(1).optional(),
  PC_WORKER_CLIENT_TLS_KEY: z.string().min(1).optional(),
  PC_DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/polyglot'),
  PC_DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  PC_REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  PC_DATA_DIR: z.string().min(1).default('.data'),
  PC_HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  PC_PARTITION_MONTHS_AHEAD: z.coerce.number().int().min(1).max(24).default(2),
  PC_HISTORY_ARCHIVE_DIR: z.string().min(1).optional(),
  PC_HISTORY_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9103),
  PC_CAPTION_RETENTION_HOURS: z.coerce.number().min(0.01).max(24 * 30).default(24),
  PC_CACHE_DIR: z.string().min(1).optional(),
  PC_MAX_LANGUAGES_PER_SESSION: z.coerce.number().int().min(1).max(256).default(16),
  PC_ALLOWED_LANGUAGES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const tags = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
      const bad = tags.filter((t) => tryCanonicalLanguageTag(t) === undefined);
      if (bad.length > 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not BCP 47 language tags: ${bad.slice(0, 5).join(', ')}` });
        return z.NEVER;
      }
      return [...new Set(tags.map((t) => tryCanonicalLanguageTag(t) ?? t))];
    }),
  XDG_CACHE_HOME: z.string().min(1).optional(),
  MEDIASOUP_WORKER_BIN: z.string().min(1).optional(),
});

export interface Config {
  logLevel: z.infer<typeof env>['PC_LOG_LEVEL'];
  natsUrl: string;
  /** PC_NATS_USER/PC_NATS_PASSWORD or PC_NATS_CREDS_FILE; else the URL's userinfo (natsConnectOptions). */
  natsAuth: NatsAuth;
  database: { url: string; poolMax: number };
  /**
   * PEM files with which the platform calls language workers that serve TLS: the CA that signed
   * their certificates and, for workers that require mutual TLS, our client certificate and key.
   * Unset: TLS workers are not used (plaintext workers beyond loopback never are).
   */
  workerTls: { caFile: string | undefined; certFile: string | undefined; keyFile: string | undefined };
  redisUrl: string;
  /** Where `polyglot infra up` and the demo keep their data; absolute. */
  dataDir: string;
  history: {
    retentionDays: number;
    partitionMonthsAhead: number;
    /** Expired partitions are exported here (gzip JSON lines) before they are dropped; absolute. */
    archiveDir: string;
    metricsPort: number;
  };
  /** How long final captions stay in the JetStream stream (resume, and catch-up of a history writer that was down). */
  captionRetentionMs: number;
  /** Build caches that outlive a checkout (the mediasoup worker binary); absolute. */
  cacheDir: string;
  /** Unset: the worker `sfu/worker/build.sh` put in cacheDir for the installed mediasoup version. */
  mediasoupWorkerBin: string | undefined;
  languages: LanguageLimits;
}

/** Which caption languages a session may have (signaling refuses the rest; the caption pipeline never exceeds the bound). */
export interface LanguageLimits {
  /** Languages a session's viewers may read at once, its source language not counted. */
  maxPerSession: number;
  /** Canonical tags the operator allows; undefined: whatever the translation workers offer. */
  allowed: readonly string[] | undefined;
}

export const DEFAULT_LANGUAGE_LIMITS: LanguageLimits = { maxPerSession: 16, allowed: undefined };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws one ConfigError naming every bad variable. */
export function parseConfig(source: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const parsed = env.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${describeValue(String(i.path[0]), source[String(i.path[0])])})`));
  }
  const e = parsed.data;
  return {
    logLevel: e.PC_LOG_LEVEL,
    natsUrl: e.PC_NATS_URL,
    natsAuth: { user: e.PC_NATS_USER, password: e.PC_NATS_PASSWORD, credsFile: e.PC_NATS_CREDS_FILE },
    database: { url: e.PC_DATABASE_URL, poolMax: e.PC_DATABASE_POOL_MAX },
    workerTls: { caFile: e.PC_WORKER_TLS_CA, certFile: e.PC_WORKER_CLIENT_TLS_CERT, keyFile: e.PC_WORKER_CLIENT_TLS_KEY },
    redisUrl: e.PC_REDIS_URL,
    dataDir: path.resolve(cwd, e.PC_DATA_DIR.replace(/^~(?=$|\/)/, os.homedir())),
    history: {
      retentionDays: e.PC_HISTORY_RETENTION_DAYS,
      partitionMonthsAhead: e.PC_PARTITION_MONTHS_AHEAD,
      archiveDir: path.resolve(cwd, e.PC_HISTORY_ARCHIVE_DIR ?? path.join(e.PC_DATA_DIR, 'archive')),
      metricsPort: e.PC_HISTORY_METRICS_PORT,
    },
    captionRetentionMs: Math.round(e.PC_CAPTION_RETENTION_HOURS * 3_600_000),
    cacheDir: e.PC_CACHE_DIR ?? path.join(e.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'polyglot-connect'),
    mediasoupWorkerBin: e.MEDIASOUP_WORKER_BIN,
    languages: { maxPerSession: e.PC_MAX_LANGUAGES_PER_SESSION, allowed: e.PC_ALLOWED_LANGUAGES },
  };
}

/** The port in a service URL, or the protocol's default. */
export function portOf(url: string, fallback: number): number {
  const port = new URL(url).port;
  return port ? Number(port) : fallback;
}
