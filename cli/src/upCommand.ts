import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { z } from 'zod';
import { WorkerRegistry } from '../../sidecars/client/src/index.js';
import { resolveJwtSecret, signDevToken } from '../../signaling/src/devToken.js';
import { createDb, ensurePartitions, migrateToLatest } from '../../sql/src/index.js';
import type { Config } from '../../core/src/config.js';
import { LocalInfra, type InfraEnv } from '../../core/src/infra/LocalInfra.js';
import { readCredentials, type InfraCredentials } from '../../core/src/infra/infraCredentials.js';
import { infraStateFile, persistentInfraOptions, readInfraState } from '../../core/src/infra/infraState.js';
import type { NatsRole } from '../../core/src/natsPermissions.js';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { redactUrl } from '../../core/src/redactUrl.js';
import { ServerProcess } from '../../core/src/infra/ServerProcess.js';
import { moduleLog } from '../../core/src/log.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('up');

const USAGE = `usage: polyglot up [--no-sample] [--no-infra]
  Starts everything on this machine in the foreground until Ctrl-C: the local infra (or the one
  'polyglot infra up' runs), the database schema, the history writer, the SFU, the local speech
  (English) and translation (English to Spanish, Catalan, Galician) workers and signaling; then a
  demo session fed by a looping speech sample, with host and viewer links.
  --no-sample  everything but the demo session (for real hosts, and tests)
  --no-infra   use the NATS, Postgres and Redis of PC_NATS_URL, PC_DATABASE_URL, PC_REDIS_URL as
               they are (managed elsewhere) instead of starting local ones`;

/** The demo's organization: fixed, so links keep working across restarts of the demo. */
const DEMO_ORG = '00000000-0000-4000-8000-00000000d3e0';
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

export async function upCommand(args: string[], cfg: Config): Promise<number> {
  let noSample = false;
  let noInfra = false;
  try {
    const { values } = parseArgs({ args, options: { 'no-sample': { type: 'boolean' }, 'no-infra': { type: 'boolean' } }, strict: true });
    noSample = values['no-sample'] ?? false;
    noInfra = values['no-infra'] ?? false;
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
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
  const started: ServerProcess[] = [];
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
    const base = `http://127.0.0.1:${httpPort}`;
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
      { name: 'sfu', role: 'sfu', entry: 'sfu/src/main.ts', env: { PC_SFU_METRICS_PORT: String(sfuPort) }, ready: () => httpOk(`http://127.0.0.1:${sfuPort}/healthz`) },
      { name: 'signaling', role: 'signaling', entry: 'signaling/src/main.ts', env: { PC_HTTP_PORT: String(httpPort) }, ready: () => httpOk(`${base}/readyz`) },
    ];
    await mkdir(logDir, { recursive: true });
    for (const service of services) {
      const output = openSync(path.join(logDir, `${service.name}.log`), 'a');
      const proc = new ServerProcess({
        name: service.name,
        command: process.execPath,
        args: nodeArgsFor(service.entry),
        stopSignal: 'SIGTERM',
        env: processEnv({ ...env, ...natsRoleEnv(infra.env.PC_NATS_URL, credentials, service.role), ...service.env }, service.role),
        output,
        log,
      });
      closeSync(output);
      started.push(proc);
      try {
        await proc.waitReady(service.ready, 60_000);
      } catch (err) {
        throw new Error(`${service.name} did not start: see ${path.join(logDir, `${service.name}.log`)}`, { cause: err });
      }
      process.stdout.write(`  ${service.name.padEnd(10)} ready\n`);
    }

    if (!noSample) {
      const secret = resolveJwtSecret({ env: env.PC_ENV === 'development' ? 'development' : 'production', secret: env.PC_JWT_SECRET });
      if (!secret) throw new UsageError('the demo needs PC_JWT_SECRET (or PC_ENV=development) to sign its tokens');
      const host = await signDevToken(secret, { org: DEMO_ORG, sub: 'demo-host', role: 'host', name: 'Demo host', ttlSeconds: 86_400 });
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
      const sessionHost = await signDevToken(secret, { org: DEMO_ORG, sub: 'demo-host', role: 'host', session, name: 'Demo host', ttlSeconds: 86_400 });
      const output = openSync(path.join(logDir, 'publisher.log'), 'a');
      started.push(
        new ServerProcess({
          name: 'publisher',
          command: process.execPath,
          args: [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', sample, '--loop', '--peer', 'Keynote-speaker'],
          stopSignal: 'SIGTERM',
          env: processEnv({ ...env, ...natsRoleEnv(infra.env.PC_NATS_URL, credentials, 'cli') }, 'cli'),
          output,
          log,
        }),
      );
      closeSync(output);
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
    const exited = started.map((p) => p.exited.then(() => p.name));
    const outcome = await Promise.race([once(process, 'SIGINT').then(() => 'signal'), once(process, 'SIGTERM').then(() => 'signal'), ...exited]);
    if (outcome !== 'signal') {
      process.stderr.write(`polyglot up: ${outcome} stopped unexpectedly (see ${path.join(logDir, `${outcome}.log`)}); stopping everything\n`);
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
