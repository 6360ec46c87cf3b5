import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { z } from 'zod';
import { WorkerRegistry } from '../../sidecars/client/src/index.js';
import { isLoopbackHost } from '../../signaling/src/config.js';
import { resolveJwtSecret, signDevToken } from '../../signaling/src/devToken.js';
import { createDb, ensurePartitions, migrateToLatest } from '../../sql/src/index.js';
import type { Config } from '../../core/src/config.js';
import { LocalInfra, type InfraEnv } from '../../core/src/infra/LocalInfra.js';
import { readCredentials, type InfraCredentials } from '../../core/src/infra/infraCredentials.js';
import { infraStateFile, persistentInfraOptions, readInfraState } from '../../core/src/infra/infraState.js';
import type { NatsRole } from '../../core/src/natsPermissions.js';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { redactUrl } from '../../core/src/secrets.js';
import { ServerProcess } from '../../core/src/infra/ServerProcess.js';
import { moduleLog } from '../../core/src/log.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { RestartingService } from './RestartingService.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('up');

const USAGE = `usage: polyglot up [--no-sample] [--no-infra] [--host HOST]
  Starts everything on this machine in the foreground until Ctrl-C: the local infra (or the one
  'polyglot infra up' runs), the database schema, the history writer, the SFU, the local speech
  (English) and translation (English to Spanish, Catalan, Galician) workers and signaling; then a
  demo session fed by a looping speech sample, with host and viewer links.
  --no-sample  everything but the demo session (for real hosts, and tests)
  --no-infra   use the NATS, Postgres and Redis of PC_NATS_URL, PC_DATABASE_URL, PC_REDIS_URL as
               they are (managed elsewhere) instead of starting local ones
  --host HOST  the web port's address (default PC_HTTP_HOST, else 127.0.0.1: this machine only).
               Any other address needs PC_JWT_SECRET (or PC_JWKS_URL): the development secret
               is published, so anyone reaching the port could sign tokens with it. Every other
               listener (metrics, health) stays on 127.0.0.1`;

const DEMO_TARGETS = ['es', 'ca', 'gl'];
const createdSessionSchema = z.object({ session: z.object({ id: z.string().uuid() }), viewerUrl: z.string().url() });

interface Service {
  name: string;
  /** Its NATS user when the infra's credentials are known (natsPermissions.ts). */
  role: NatsRole;
  /** Entry point's source, relative to the repository root (run from dist/ when compiled). */
  entry: string;
  env: NodeJS.ProcessEnv;
  ready: () => Promise<boolean>;
  /**
   * Started again (with backoff) when it dies on its own, instead of stopping everything: the SFU,
   * whose clients re-run their media setup by themselves. In production the process manager does
   * this (docs/operations.md).
   */
  restart?: boolean;
}

/** A process `up` runs, and how it ends for good (the reason is printed). */
interface Running {
  name: string;
  ended: Promise<string>;
  stop(timeoutMs: number): Promise<void>;
}

/**
 * The variables that give a process its role's NATS user: the URL without the admin's userinfo and
 * PC_NATS_USER/PC_NATS_PASSWORD of the role. Without the infra's credentials file (a managed
 * infra), processes use PC_NATS_URL, PC_NATS_USER and PC_NATS_PASSWORD as configured.
 */
function natsRoleEnv(natsUrl: string, credentials: InfraCredentials | undefined, role: NatsRole): NodeJS.ProcessEnv {
  if (!credentials) return {};
  const url = new URL(natsUrl);
  url.username = '';
  url.password = '';
  return { PC_NATS_URL: url.toString().replace(/\/$/, ''), PC_NATS_USER: credentials.nats[role].user, PC_NATS_PASSWORD: credentials.nats[role].password };
}

/** What a process of `role` must not hold: every role's passwords, and a worker's the databases'. */
function processEnv(env: NodeJS.ProcessEnv, role: NatsRole): NodeJS.ProcessEnv {
  const rest = { ...env };
  delete rest.PC_INFRA_CREDENTIALS_FILE;
  if (role === 'worker') {
    delete rest.PC_DATABASE_URL;
    delete rest.PC_REDIS_URL;
  }
  return rest;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

/**
 * The demo's organization: random per data directory and kept there (links keep working across
 * restarts), so an id printed in any documentation opens nothing on anyone's demo.
 */
export async function demoOrganization(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'demo', 'organization-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (z.string().uuid().safeParse(id).success) return id;
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
  }
  const id = randomUUID();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/** The web port's address: --host, else PC_HTTP_HOST, else loopback; beyond loopback only with a real secret. */
export function upHttpHost(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const host = flag ?? (env.PC_HTTP_HOST || '127.0.0.1');
  if (!isLoopbackHost(host) && !env.PC_JWT_SECRET && !env.PC_JWKS_URL) {
    throw new UsageError(
      `polyglot up listens on ${host} only with PC_JWT_SECRET (or PC_JWKS_URL) set: the development secret is published, so anyone reaching ${host} could sign tokens and end sessions. Set PC_JWT_SECRET to 32+ random characters, or leave the host at 127.0.0.1`,
    );
  }
  return host;
}

export async function upCommand(args: string[], cfg: Config): Promise<number> {
  let noSample = false;
  let noInfra = false;
  let hostFlag: string | undefined;
  try {
    const { values } = parseArgs({ args, options: { 'no-sample': { type: 'boolean' }, 'no-infra': { type: 'boolean' }, host: { type: 'string' } }, strict: true });
    noSample = values['no-sample'] ?? false;
    noInfra = values['no-infra'] ?? false;
    hostFlag = values.host;
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const httpHost = upHttpHost(hostFlag, process.env);
  const sample = path.join(cfg.dataDir, 'demo', 'sample.wav');
  if (!noSample && !existsSync(sample)) throw new UsageError(`the demo's speech sample ${sample} is missing: run 'make setup'`);

  const configured: InfraEnv = {
    PC_NATS_URL: cfg.natsUrl,
    PC_DATABASE_URL: cfg.database.url,
    PC_REDIS_URL: cfg.redisUrl,
    ...(process.env.PC_INFRA_CREDENTIALS_FILE ? { PC_INFRA_CREDENTIALS_FILE: process.env.PC_INFRA_CREDENTIALS_FILE } : {}),
  };
  const running = noInfra ? { env: configured } : await readInfraState(infraStateFile(cfg));
  const infra: { env: InfraEnv; stop(): Promise<void> } = running
    ? { env: running.env, stop: async () => {} } // not ours to stop
    : await LocalInfra.start(persistentInfraOptions(cfg));
  const started: Running[] = [];
  const logDir = path.join(cfg.dataDir, 'logs');
  let registry: WorkerRegistry | undefined;
  const credentialsFile = infra.env.PC_INFRA_CREDENTIALS_FILE;
  const credentials = credentialsFile ? await readCredentials(credentialsFile) : undefined;
  // Our own connection only reads the worker registry: the CLI role is enough.
  const ownAuth = credentials ? { user: credentials.nats.cli.user, password: credentials.nats.cli.password } : cfg.natsAuth;
  const nc = await connect({ ...natsConnectOptions(infra.env.PC_NATS_URL, ownAuth), name: 'polyglot-up' });
  try {
    const db = createDb({ url: infra.env.PC_DATABASE_URL, poolMax: 2, applicationName: 'polyglot-up' });
    try {
      await migrateToLatest(db);
      await ensurePartitions(db, { monthsAhead: cfg.history.partitionMonthsAhead });
    } finally {
      await db.destroy();
    }
    registry = await WorkerRegistry.start({ nats: nc, log });
    const workers = registry;
    const httpPort = Number(process.env.PC_HTTP_PORT ?? 8080);
    const historyPort = cfg.history.metricsPort;
    const sfuPort = Number(process.env.PC_SFU_METRICS_PORT ?? 9311);
    // A wildcard bind answers on loopback too; a specific address only on itself.
    const reachAt = httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost.includes(':') && !httpHost.startsWith('[') ? `[${httpHost}]` : httpHost;
    const base = `http://${reachAt}:${httpPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...infra.env,
      PC_ENV: process.env.PC_ENV ?? 'development',
      PC_TRANSLATION_ENGINES: process.env.PC_TRANSLATION_ENGINES ?? 'apertium',
    };
    const services: Service[] = [
      { name: 'history', role: 'history', entry: 'sql/src/history/main.ts', env: { PC_HISTORY_METRICS_PORT: String(historyPort) }, ready: () => httpOk(`http://127.0.0.1:${historyPort}/healthz`) },
      { name: 'stt-local', role: 'worker', entry: 'sidecars/stt-local/src/main.ts', env: {}, ready: async () => workers.pickSpeechWorker('en') !== undefined },
      { name: 'mt-local', role: 'worker', entry: 'sidecars/mt-local/src/main.ts', env: { PC_MT_MODES: 'eng-spa,eng-cat,en-gl' }, ready: async () => DEMO_TARGETS.every((t) => workers.pickTranslator({ source: 'en', target: t }, 'apertium')) },
      { name: 'sfu', role: 'sfu', entry: 'sfu/src/main.ts', env: { PC_SFU_METRICS_PORT: String(sfuPort) }, ready: () => httpOk(`http://127.0.0.1:${sfuPort}/healthz`), restart: true },
      { name: 'signaling', role: 'signaling', entry: 'signaling/src/main.ts', env: { PC_HTTP_HOST: httpHost, PC_HTTP_PORT: String(httpPort) }, ready: () => httpOk(`${base}/readyz`) },
    ];
    await mkdir(logDir, { recursive: true });
    for (const service of services) {
      const logFile = path.join(logDir, `${service.name}.log`);
      const spawnOne = (): ServerProcess => {
        const output = openSync(logFile, 'a');
        try {
          return new ServerProcess({ name: service.name, command: process.execPath, args: nodeArgsFor(service.entry), stopSignal: 'SIGTERM', env: processEnv({ ...env, ...natsRoleEnv(infra.env.PC_NATS_URL, credentials, service.role), ...service.env }, service.role), output, log });
        } finally {
          closeSync(output);
        }
      };
      try {
        if (service.restart) {
          const supervised = new RestartingService({
            name: service.name,
            spawn: spawnOne,
            ready: service.ready,
            log,
            onRestarted: (n) => process.stdout.write(`  ${service.name.padEnd(10)} restarted after a crash (${n}); see ${logFile}\n`),
          });
          started.push({ name: service.name, ended: supervised.gaveUp, stop: (ms) => supervised.stop(ms) });
          await supervised.start();
        } else {
          const proc = spawnOne();
          started.push({ name: service.name, ended: proc.exited.then(() => `${service.name} stopped unexpectedly`), stop: (ms) => proc.stop(ms) });
          await proc.waitReady(service.ready, 60_000);
        }
      } catch (err) {
        throw new Error(`${service.name} did not start: see ${logFile}`, { cause: err });
      }
      process.stdout.write(`  ${service.name.padEnd(10)} ready\n`);
    }

    if (!noSample) {
      const secret = resolveJwtSecret({ env: env.PC_ENV === 'development' ? 'development' : 'production', secret: env.PC_JWT_SECRET });
      if (!secret) throw new UsageError('the demo needs PC_JWT_SECRET (or PC_ENV=development) to sign its tokens');
      const demoOrg = await demoOrganization(cfg.dataDir);
      const host = await signDevToken(secret, { org: demoOrg, sub: 'demo-host', role: 'host', name: 'Demo host', ttlSeconds: 86_400 });
      const created = await fetch(`${base}/api/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${host}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Polyglot Connect demo', sourceLanguage: 'en' }),
      });
      const body: unknown = await created.json();
      const parsed = createdSessionSchema.safeParse(body);
      if (!created.ok || !parsed.success) throw new Error(`creating the demo session failed: ${created.status} ${JSON.stringify(body)}`);
      const session = parsed.data.session.id;
      const viewerUrl = parsed.data.viewerUrl;
      await fetch(`${base}/api/sessions/${session}/start`, { method: 'POST', headers: { authorization: `Bearer ${host}` } });
      const sessionHost = await signDevToken(secret, { org: demoOrg, sub: 'demo-host', role: 'host', session, name: 'Demo host', ttlSeconds: 86_400 });
      const output = openSync(path.join(logDir, 'publisher.log'), 'a');
      const publisher = new ServerProcess({
        name: 'publisher',
        command: process.execPath,
        args: [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', sample, '--loop', '--peer', 'Keynote-speaker'],
        stopSignal: 'SIGTERM',
        env: processEnv({ ...env, ...natsRoleEnv(infra.env.PC_NATS_URL, credentials, 'cli') }, 'cli'),
        output,
        log,
      });
      closeSync(output);
      started.push({ name: 'publisher', ended: publisher.exited.then(() => 'publisher stopped unexpectedly'), stop: (ms) => publisher.stop(ms) });
      process.stdout.write(
        [
          '',
          `Demo session ${session}: a looping English speech sample, captioned live.`,
          `  Viewer (pick Spanish, Catalan or Galician on the page):`,
          `    ${viewerUrl}`,
          `  Host:`,
          `    ${base}/host.html#session=${session}&token=${sessionHost}`,
          `  In a terminal:`,
          `    npm run polyglot -- watch --session ${session} --lang es`,
          '',
        ].join('\n'),
      );
    }
    process.stdout.write(
      [
        'Polyglot Connect is up:',
        `  web       ${base}/`,
        `  NATS      ${redactUrl(infra.env.PC_NATS_URL)}`,
        `  Postgres  ${redactUrl(infra.env.PC_DATABASE_URL)}`,
        `  Redis     ${redactUrl(infra.env.PC_REDIS_URL)}`,
        ...(credentialsFile ? [`  passwords ${credentialsFile} (readable by you only)`] : []),
        `  logs      ${logDir}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    const ended = started.map((p) => p.ended.then((reason) => ({ name: p.name, reason })));
    const outcome = await Promise.race([once(process, 'SIGINT').then(() => 'signal' as const), once(process, 'SIGTERM').then(() => 'signal' as const), ...ended]);
    if (outcome !== 'signal') {
      process.stderr.write(`polyglot up: ${outcome.reason} (see ${path.join(logDir, `${outcome.name}.log`)}); stopping everything\n`);
      return 1;
    }
    return 0;
  } finally {
    // Reverse order: the publisher and signaling first, the infra last.
    for (const proc of started.reverse()) await proc.stop(15_000);
    registry?.close();
    await nc.close();
    await infra.stop();
  }
}
