import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { moduleLog } from '../log.js';
import { redactUrl } from '../secrets.js';
import { credentialsFile, loadOrCreateCredentials } from './infraCredentials.js';
import { NatsServer } from './NatsServer.js';
import { PostgresServer } from './PostgresServer.js';
import { RedisServer } from './RedisServer.js';
import { freePort } from './ports.js';

const log = moduleLog('LocalInfra');

export interface LocalInfraOptions {
  /**
   * Keep data here across runs (the demo, `.data/`), on the ports given. Without it, everything
   * lives in a fresh temporary directory on free ports and is deleted on stop (tests, bench).
   */
  dataDir?: string;
  ports?: { nats: number; postgres: number; redis: number };
  database?: string;
}

/**
 * The environment variables through which every process and test finds the infra. The URLs carry
 * the admin/test credentials (NATS: user and password in the URL's userinfo, which
 * natsConnectOptions reads); PC_INFRA_CREDENTIALS_FILE is the 0600 file with every role's
 * password, from which `polyglot up` gives each process its own NATS user.
 */
export interface InfraEnv {
  PC_NATS_URL: string;
  PC_DATABASE_URL: string;
  PC_REDIS_URL: string;
  PC_INFRA_CREDENTIALS_FILE?: string;
}

/**
 * Real nats-server (JetStream), PostgreSQL and redis-server started side by side on loopback: the
 * one code path behind tests, `make demo` and bench. stop() is idempotent and leaves no process.
 */
export class LocalInfra {
  readonly nats: NatsServer;
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  /** The 0600 file with every generated password (infraCredentials.ts). */
  readonly credentialsFile: string;
  readonly #tempDir: string | undefined;
  readonly #natsAdminUrl: string;
  #stopping: Promise<void> | undefined;

  private constructor(nats: NatsServer, postgres: PostgresServer, redis: RedisServer, tempDir: string | undefined, natsAdminUrl: string, credentials: string) {
    this.nats = nats;
    this.postgres = postgres;
    this.redis = redis;
    this.#tempDir = tempDir;
    this.#natsAdminUrl = natsAdminUrl;
    this.credentialsFile = credentials;
  }

  static async start(opts: LocalInfraOptions = {}): Promise<LocalInfra> {
    const tempDir = opts.dataDir ? undefined : await mkdtemp(path.join(os.tmpdir(), 'pc-infra-'));
    const root = path.resolve(opts.dataDir ?? (tempDir as string));
    // Postgres runs as its own user when we are root and must be able to reach its directory.
    await mkdir(root, { recursive: true });
    await chmod(root, 0o755);
    const ports = opts.ports ?? { nats: await freePort(), postgres: await freePort(), redis: await freePort() };
    const durable = opts.dataDir !== undefined;
    const { credentials, fresh } = await loadOrCreateCredentials(root);
    const started = await Promise.allSettled([
      NatsServer.start({
        dir: path.join(root, 'nats'),
        port: ports.nats,
        users: credentials.nats,
        // A throwaway set serves tests, which connect with a bare URL; a persistent set admits no one anonymous.
        ...(durable ? {} : { noAuthRole: 'admin' as const }),
        log,
      }),
      PostgresServer.start({
        dir: path.join(root, 'postgres'),
        port: ports.postgres,
        database: opts.database ?? 'polyglot',
        durable,
        password: credentials.postgres.password,
        resetPassword: fresh,
        log,
      }),
      RedisServer.start({ dir: path.join(root, 'redis'), port: ports.redis, persistent: durable, ...credentials.redis, log }),
    ]);
    const [nats, postgres, redis] = started;
    if (nats.status === 'fulfilled' && postgres.status === 'fulfilled' && redis.status === 'fulfilled') {
      const admin = credentials.nats.admin;
      const natsUrl = new URL(nats.value.url);
      natsUrl.username = admin.user;
      natsUrl.password = admin.password;
      const infra = new LocalInfra(nats.value, postgres.value, redis.value, tempDir, natsUrl.toString().replace(/\/$/, ''), credentialsFile(root));
      log.info({ nats: redactUrl(nats.value.url), postgres: redactUrl(postgres.value.url), redis: redactUrl(redis.value.url), dir: root }, 'infra ready');
      return infra;
    }
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
    const reasons = started.flatMap((s) => (s.status === 'rejected' ? [s.reason instanceof Error ? s.reason.message : String(s.reason)] : []));
    throw new Error(`local infra failed to start: ${reasons.join('; ')}`);
  }

  get env(): InfraEnv {
    return { PC_NATS_URL: this.#natsAdminUrl, PC_DATABASE_URL: this.postgres.url, PC_REDIS_URL: this.redis.url, PC_INFRA_CREDENTIALS_FILE: this.credentialsFile };
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all([this.nats.stop(), this.postgres.stop(), this.redis.stop()]);
      if (this.#tempDir) await rm(this.#tempDir, { recursive: true, force: true });
      log.info('infra stopped');
    })();
    return this.#stopping;
  }
}
