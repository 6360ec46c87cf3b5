import os from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../../core/src/config.js';
import {
  DEFAULT_CONSUMERS_PER_PEER,
  DEFAULT_RECV_TRANSPORTS_PER_PEER,
  DEFAULT_SEND_TRANSPORTS_PER_PEER,
  DEFAULT_TRANSPORTS_PER_SESSION,
  transportsForPortRange,
  type MediaLimits,
} from './MediaQuota.js';
import { describeValue } from '../../core/src/secrets.js';

/**
 * The SFU process's own settings (docs/configuration.md, "SFU"). Parsed once in main.ts; the shared
 * ones (NATS, log level, worker binary) come from core/src/config.ts.
 */
export interface SfuConfig {
  /** This node's id: its RPC subject pc.v1.sfu.<nodeId>.rpc, logs, metrics. */
  nodeId: string;
  workers: number;
  listen: { ip: string; announcedAddress: string | undefined; portRange: { min: number; max: number } };
  maxConsumersPerRouter: number;
  limits: MediaLimits;
  metrics: { host: string; port: number };
  shutdownTimeoutMs: number;
}

const port = z.coerce.number().int().min(1).max(65535);
const env = z.object({
  PC_SFU_NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_-]').optional(),
  PC_SFU_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  PC_SFU_LISTEN_IP: z.string().ip().default('127.0.0.1'),
  PC_SFU_ANNOUNCED_IP: z.string().min(1).optional(),
  PC_SFU_RTC_MIN_PORT: port.default(40000),
  PC_SFU_RTC_MAX_PORT: port.default(49999),
  PC_SFU_MAX_CONSUMERS_PER_ROUTER: z.coerce.number().int().min(1).max(100_000).default(500),
  PC_SFU_MAX_SEND_TRANSPORTS_PER_PEER: z.coerce.number().int().min(1).max(64).default(DEFAULT_SEND_TRANSPORTS_PER_PEER),
  PC_SFU_MAX_RECV_TRANSPORTS_PER_PEER: z.coerce.number().int().min(1).max(64).default(DEFAULT_RECV_TRANSPORTS_PER_PEER),
  PC_SFU_MAX_CONSUMERS_PER_PEER: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_CONSUMERS_PER_PEER),
  PC_SFU_MAX_TRANSPORTS_PER_SESSION: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_TRANSPORTS_PER_SESSION),
  PC_SFU_MAX_TRANSPORTS: z.coerce.number().int().min(1).max(65535).optional(),
  PC_SFU_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  PC_SFU_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9311),
  PC_SFU_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
});

/** Parses the environment; throws one ConfigError naming every bad variable. */
export function parseSfuConfig(source: NodeJS.ProcessEnv): SfuConfig {
  // An empty variable is an unset one (docker-compose and shells export empties freely).
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const parsed = env.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got ${describeValue(String(i.path[0]), cleaned[String(i.path[0])])})`));
  }
  const e = parsed.data;
  if (e.PC_SFU_RTC_MIN_PORT > e.PC_SFU_RTC_MAX_PORT) {
    throw new ConfigError([`PC_SFU_RTC_MIN_PORT (${e.PC_SFU_RTC_MIN_PORT}) is above PC_SFU_RTC_MAX_PORT (${e.PC_SFU_RTC_MAX_PORT})`]);
  }
  const portRange = { min: e.PC_SFU_RTC_MIN_PORT, max: e.PC_SFU_RTC_MAX_PORT };
  const ports = portRange.max - portRange.min + 1;
  if (e.PC_SFU_MAX_TRANSPORTS !== undefined && e.PC_SFU_MAX_TRANSPORTS > ports) {
    throw new ConfigError([`PC_SFU_MAX_TRANSPORTS (${e.PC_SFU_MAX_TRANSPORTS}) is above the ${ports} ports of PC_SFU_RTC_MIN_PORT..PC_SFU_RTC_MAX_PORT: each transport holds one`]);
  }
  if (e.PC_SFU_ANNOUNCED_IP === undefined && (e.PC_SFU_LISTEN_IP === '0.0.0.0' || e.PC_SFU_LISTEN_IP === '::')) {
    throw new ConfigError([`PC_SFU_ANNOUNCED_IP: required when PC_SFU_LISTEN_IP is a wildcard (${e.PC_SFU_LISTEN_IP}); clients cannot reach it`]);
  }
  return {
    nodeId: e.PC_SFU_NODE_ID ?? `sfu-${os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}`,
    workers: e.PC_SFU_WORKERS ?? os.availableParallelism(),
    listen: {
      ip: e.PC_SFU_LISTEN_IP,
      announcedAddress: e.PC_SFU_ANNOUNCED_IP,
      portRange,
    },
    maxConsumersPerRouter: e.PC_SFU_MAX_CONSUMERS_PER_ROUTER,
    limits: {
      sendTransportsPerPeer: e.PC_SFU_MAX_SEND_TRANSPORTS_PER_PEER,
      recvTransportsPerPeer: e.PC_SFU_MAX_RECV_TRANSPORTS_PER_PEER,
      consumersPerPeer: e.PC_SFU_MAX_CONSUMERS_PER_PEER,
      transportsPerSession: e.PC_SFU_MAX_TRANSPORTS_PER_SESSION,
      transportsPerNode: e.PC_SFU_MAX_TRANSPORTS ?? transportsForPortRange(portRange),
    },
    metrics: { host: e.PC_SFU_METRICS_HOST, port: e.PC_SFU_METRICS_PORT },
    shutdownTimeoutMs: e.PC_SFU_SHUTDOWN_TIMEOUT_MS,
  };
}
