// Environment of a worker process, for its main.ts: the variables every worker shares, which a
// worker extends with its engine's own, parsed once. Nothing here reads process.env by itself.
import { readFileSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { z } from 'zod';

import { logOptions } from '../../../core/src/logOptions.js';
import { describeValue } from '../../../core/src/secrets.js';
import { WORKER_ANNOUNCE_SUBJECT } from '../../../core/src/subjects.js';
import { DEFAULT_ANNOUNCE_INTERVAL_MS } from '../../../core/src/workers/workerMessage.js';
import { DEFAULT_DRAIN_TIMEOUT_MS, type LanguageWorker, type WorkerOptions, type WorkerTlsOptions } from './LanguageWorker.js';

const port = z.coerce.number().int().min(0).max(65_535);

/** The variables every worker reads (docs/configuration.md, "Language workers"). */
export const workerEnvSchema = z.object({
  PC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PC_NATS_URL: z.string().url().default('nats://127.0.0.1:4222'),
  PC_NATS_USER: z.string().min(1).optional(),
  PC_NATS_PASSWORD: z.string().min(1).optional(),
  PC_NATS_CREDS_FILE: z.string().min(1).optional(),
  PC_WORKER_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, ".", "_" and "-" only, up to 128')
    .optional(),
  PC_GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  PC_GRPC_PORT: port.default(0),
  PC_ADVERTISE_ADDRESS: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port')
    .optional(),
  PC_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  PC_METRICS_PORT: z.union([z.literal('off'), port]).default(0),
  PC_REGISTRY_SUBJECT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a NATS subject without wildcards')
    .default(WORKER_ANNOUNCE_SUBJECT),
  PC_ANNOUNCE_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_ANNOUNCE_INTERVAL_MS),
  PC_MAX_STREAMS: z.coerce.number().int().min(0).optional(),
  PC_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_DRAIN_TIMEOUT_MS),
  /** PEM files: the worker's certificate and key, and the CA of client certificates (mutual TLS). */
  PC_WORKER_TLS_CERT: z.string().min(1).optional(),
  PC_WORKER_TLS_KEY: z.string().min(1).optional(),
  PC_WORKER_TLS_CA: z.string().min(1).optional(),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

export class WorkerConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid worker configuration:\n  ${problems.join('\n  ')}`);
    this.name = new.target.name;
  }
}

/**
 * Parses `env` with `schema` (workerEnvSchema, or workerEnvSchema.extend({...}) with the engine's
 * own variables); throws one WorkerConfigError naming every bad variable and the value it had
 * (never a secret's: core/src/secrets.ts).
 */
export function parseWorkerEnv<S extends z.ZodTypeAny>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new WorkerConfigError(
    parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(env)');
      return `${key}: ${issue.message} (got ${describeValue(key, env[key])})`;
    }),
  );
}

/** WorkerOptions from the shared variables. */
export function workerOptionsFromEnv(env: WorkerEnv, log: Logger): WorkerOptions & { log: Logger } {
  return {
    ...(env.PC_WORKER_ID !== undefined ? { id: env.PC_WORKER_ID } : {}),
    host: env.PC_GRPC_HOST,
    port: env.PC_GRPC_PORT,
    ...(env.PC_ADVERTISE_ADDRESS !== undefined ? { advertiseAddress: env.PC_ADVERTISE_ADDRESS } : {}),
    natsUrl: env.PC_NATS_URL,
    ...workerTls(env),
    natsAuth: { user: env.PC_NATS_USER, password: env.PC_NATS_PASSWORD, credsFile: env.PC_NATS_CREDS_FILE },
    announceIntervalMs: env.PC_ANNOUNCE_INTERVAL_MS,
    registrySubject: env.PC_REGISTRY_SUBJECT,
    metricsHost: env.PC_METRICS_HOST,
    metricsPort: env.PC_METRICS_PORT === 'off' ? null : env.PC_METRICS_PORT,
    drainTimeoutMs: env.PC_DRAIN_TIMEOUT_MS,
    ...(env.PC_MAX_STREAMS !== undefined ? { maxStreams: env.PC_MAX_STREAMS } : {}),
    log,
  };
}

function workerTls(env: WorkerEnv): { tls?: WorkerTlsOptions } {
  const { PC_WORKER_TLS_CERT: cert, PC_WORKER_TLS_KEY: key, PC_WORKER_TLS_CA: ca } = env;
  if (cert === undefined && key === undefined) {
    if (ca !== undefined) throw new WorkerConfigError(['PC_WORKER_TLS_CA: needs PC_WORKER_TLS_CERT and PC_WORKER_TLS_KEY']);
    return {};
  }
  if (cert === undefined || key === undefined) throw new WorkerConfigError(['PC_WORKER_TLS_CERT and PC_WORKER_TLS_KEY: set both or neither']);
  return { tls: { cert: readFileSync(cert), key: readFileSync(key), ...(ca !== undefined ? { ca: readFileSync(ca) } : {}) } };
}

/**
 * The body of a worker's main.ts: makes the logger, calls `start` with the options from `env`,
 * and shuts the worker down gracefully on SIGTERM or SIGINT. A start that fails is logged and
 * exits the process with code 1.
 */
export async function runWorker(
  env: WorkerEnv,
  start: (options: WorkerOptions & { log: Logger }) => Promise<LanguageWorker>,
): Promise<LanguageWorker> {
  const log = pino(logOptions(env.PC_LOG_LEVEL));
  try {
    const worker = await start(workerOptionsFromEnv(env, log));
    worker.closeOnSignals();
    return worker;
  } catch (err) {
    log.fatal({ err }, 'worker failed to start');
    process.exit(1);
  }
}
