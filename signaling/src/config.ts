import os from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../../core/src/config.js';
import { DEFAULT_CAPTION_QUEUE_LIMITS, type CaptionQueueLimits } from './CaptionSink.js';
import { DEFAULT_CONNECTION_LIMITS } from './Connection.js';
import { DEFAULT_ADMISSION } from './ConnectionAdmission.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, MIN_JWT_SECRET_LENGTH, resolveJwtSecret } from './devToken.js';

/**
 * The signaling process's own settings (docs/configuration.md, "Signaling"). Parsed once in
 * main.ts; the shared ones (NATS, database, log level) come from core/src/config.ts.
 */
export interface SignalingConfig {
  env: 'development' | 'production';
  http: {
    host: string;
    port: number;
    /** Base of the links the REST API returns; unset: derived from the request's Host header. */
    publicUrl: string | undefined;
  };
  auth: {
    /** HS256 secret (PC_JWT_SECRET, or the development default in development); unset with JWKS. */
    secret: string | undefined;
    /** True when the secret is the published development default. */
    devSecret: boolean;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** The first WebSocket message must authenticate within this. */
    timeoutMs: number;
    /** Tokens whose exp - iat exceeds this (or without iat) are refused. */
    maxLifetimeSeconds: number;
  };
  /** Prometheus /metrics: its own listener, off the public port. */
  metrics: { host: string; port: number };
  /** Authenticated sockets. */
  maxConnections: number;
  /** Sockets not yet authenticated, and per client address (ConnectionAdmission.ts). */
  admission: { maxUnauthenticated: number; maxPerAddress: number; maxUnauthenticatedPerAddress: number };
  /** WebSocket ping interval; no pong by the next ping drops the socket. */
  pingIntervalMs: number;
  drainTimeoutMs: number;
  /** Per-socket caption queue (CaptionSink.ts). */
  captionQueue: CaptionQueueLimits;
  /** This node's id: its demand bucket entries, logs, metrics. */
  nodeId: string;
}

const nonEmpty = z.string().min(1);
const env = z.object({
  PC_ENV: z.enum(['development', 'production']).default('production'),
  PC_HTTP_HOST: nonEmpty.default('0.0.0.0'),
  PC_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PC_PUBLIC_URL: z.string().url().optional(),
  PC_JWT_SECRET: z.string().min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`).optional(),
  PC_JWKS_URL: z.string().url().optional(),
  PC_JWT_ISSUER: nonEmpty.optional(),
  PC_JWT_AUDIENCE: nonEmpty.optional(),
  PC_JWT_MAX_LIFETIME_S: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(DEFAULT_MAX_TOKEN_LIFETIME_S),
  PC_SIGNALING_METRICS_HOST: nonEmpty.default('127.0.0.1'),
  PC_SIGNALING_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9310),
  PC_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  PC_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(5_000),
  PC_MAX_UNAUTHENTICATED: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_ADMISSION.maxUnauthenticated),
  PC_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_ADMISSION.maxPerAddress),
  PC_MAX_UNAUTHENTICATED_PER_ADDRESS: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_ADMISSION.maxUnauthenticatedPerAddress),
  PC_WS_PING_INTERVAL_MS: z.coerce.number().int().min(1_000).max(300_000).default(DEFAULT_CONNECTION_LIMITS.pingIntervalMs),
  PC_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  PC_CAPTION_MAX_QUEUED_FINALS: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_CAPTION_QUEUE_LIMITS.maxQueuedFinals),
  PC_CAPTION_HIGH_WATER_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_CAPTION_QUEUE_LIMITS.highWaterBytes),
  PC_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]')
    .optional(),
});

/** Parses the environment; throws one ConfigError naming every bad variable. */
export function parseSignalingConfig(source: NodeJS.ProcessEnv): SignalingConfig {
  // An empty variable is an unset one (docker-compose and shells export empties freely).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = env.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const secret = e.PC_JWKS_URL === undefined ? resolveJwtSecret({ env: e.PC_ENV, secret: e.PC_JWT_SECRET }) : undefined;
  if (e.PC_JWKS_URL === undefined && secret === undefined) {
    throw new ConfigError(['PC_JWKS_URL or PC_JWT_SECRET: one is required (PC_ENV=development falls back to a published development secret)']);
  }
  const devSecret = secret !== undefined && e.PC_JWT_SECRET === undefined;
  if (devSecret && !isLoopbackHost(e.PC_HTTP_HOST)) {
    throw new ConfigError([
      `PC_HTTP_HOST=${e.PC_HTTP_HOST} with PC_ENV=development and no PC_JWT_SECRET: anyone who can reach this address could sign tokens with the published development secret; set PC_JWT_SECRET (or PC_JWKS_URL), or PC_HTTP_HOST=127.0.0.1`,
    ]);
  }
  if (e.PC_JWKS_URL !== undefined && (e.PC_JWT_ISSUER === undefined || e.PC_JWT_AUDIENCE === undefined)) {
    const missing = [e.PC_JWT_ISSUER === undefined ? 'PC_JWT_ISSUER' : undefined, e.PC_JWT_AUDIENCE === undefined ? 'PC_JWT_AUDIENCE' : undefined].filter((k) => k !== undefined);
    throw new ConfigError(missing.map((k) => `${k}: required with PC_JWKS_URL (an identity provider signs tokens for many applications; only ours may open a socket here)`));
  }
  return {
    env: e.PC_ENV,
    http: { host: e.PC_HTTP_HOST, port: e.PC_HTTP_PORT, publicUrl: e.PC_PUBLIC_URL?.replace(/\/+$/, '') },
    auth: {
      secret,
      devSecret,
      jwksUrl: e.PC_JWKS_URL,
      issuer: e.PC_JWT_ISSUER,
      audience: e.PC_JWT_AUDIENCE,
      timeoutMs: e.PC_AUTH_TIMEOUT_MS,
      maxLifetimeSeconds: e.PC_JWT_MAX_LIFETIME_S,
    },
    metrics: { host: e.PC_SIGNALING_METRICS_HOST, port: e.PC_SIGNALING_METRICS_PORT },
    maxConnections: e.PC_MAX_CONNECTIONS,
    admission: {
      maxUnauthenticated: e.PC_MAX_UNAUTHENTICATED,
      maxPerAddress: e.PC_MAX_CONNECTIONS_PER_ADDRESS,
      maxUnauthenticatedPerAddress: e.PC_MAX_UNAUTHENTICATED_PER_ADDRESS,
    },
    pingIntervalMs: e.PC_WS_PING_INTERVAL_MS,
    drainTimeoutMs: e.PC_DRAIN_TIMEOUT_MS,
    captionQueue: { ...DEFAULT_CAPTION_QUEUE_LIMITS, maxQueuedFinals: e.PC_CAPTION_MAX_QUEUED_FINALS, highWaterBytes: e.PC_CAPTION_HIGH_WATER_BYTES },
    nodeId: e.PC_NODE_ID ?? `${os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-${process.pid}`,
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}
