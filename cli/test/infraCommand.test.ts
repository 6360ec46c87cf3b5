import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import t from 'tap';
import { readCredentials } from '../../core/src/infra/infraCredentials.js';
import { freePort } from '../../core/src/infra/ports.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { demoOrganization } from '../src/upCommand.js';

const run = promisify(execFile);

/** The environment of every process below `root` (Linux /proc), keyed by pid, with its command line. */
async function descendantEnvs(root: number): Promise<{ cmdline: string; env: Map<string, string> }[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const parents = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  const out: { cmdline: string; env: Map<string, string> }[] = [];
  for (const pid of parents.keys()) {
    if (!below(pid)) continue;
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    const env = new Map(raw.split('\0').filter((kv) => kv.includes('=')).map((kv): [string, string] => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    out.push({ cmdline, env });
  }
  return out;
}

async function polyglot(args: string[], env: NodeJS.ProcessEnv) {
  return run(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), ...args], { env: { ...process.env, ...env, PC_LOG_LEVEL: 'warn' } }).catch(
    (err: { code: number; stdout: string; stderr: string }) => ({ stdout: err.stdout, stderr: err.stderr, code: err.code }),
  );
}

t.test('infra up / status / down keep data under PC_DATA_DIR and stop cleanly', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pc-cli-'));
  await chmod(dataDir, 0o755); // Postgres runs as its own user and must reach its directory
  const env = {
    PC_DATA_DIR: dataDir,
    PC_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    PC_DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/polyglot`,
    PC_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
  };
  t.teardown(async () => {
    await polyglot(['infra', 'down'], env);
    await rm(dataDir, { recursive: true, force: true });
  });

  const up = await polyglot(['infra', 'up'], env);
  // Where each server listens, with the generated credentials (the user's own shell evaluates these lines).
  const redisPort = new URL(env.PC_REDIS_URL).port;
  const redisUrl = up.stdout.match(new RegExp(`export PC_REDIS_URL=(redis://polyglot:[A-Za-z0-9_-]+@127\\.0\\.0\\.1:${redisPort})\n`))?.[1];
  t.ok(redisUrl, 'up prints where each server listens, with its credentials');
  t.match(up.stdout, /export PC_INFRA_CREDENTIALS_FILE=\S+credentials\.json/);
  const stateFile = path.join(dataDir, 'infra', 'state.json');
  t.equal((await stat(stateFile)).mode & 0o777, 0o600, 'the state file, which holds the URLs, is 0600');

  const redis = new Redis(redisUrl ?? env.PC_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await redis.connect();
  t.equal(await redis.ping(), 'PONG', 'the server outlives the `up` command');
  redis.disconnect();

  const status = await polyglot(['infra', 'status'], env);
  t.match(status.stdout, /infra runs \(pid \d+\)/);
  t.match((await polyglot(['infra', 'up'], env)).stdout, `@127.0.0.1:${new URL(env.PC_NATS_URL).port}`, 'a second up reports the running set');

  t.match((await polyglot(['infra', 'down'], env)).stdout, 'infra stopped');
  const after = await polyglot(['infra', 'status'], env);
  t.match(after.stdout, 'infra is not running');
  t.equal((after as { code?: number }).code, 3, 'status exits 3 when not running');
});

t.test('bad usage and bad config exit 2 with a message, not a stack trace', async (t) => {
  const unknown = await polyglot(['frobnicate'], {});
  t.equal((unknown as { code?: number }).code, 2);
  t.match(unknown.stderr, "unknown command 'frobnicate'");
  const badConfig = await polyglot(['infra', 'status'], { PC_DATABASE_POOL_MAX: 'lots' });
  t.equal((badConfig as { code?: number }).code, 2);
  t.match(badConfig.stderr, 'PC_DATABASE_POOL_MAX');
  t.notMatch(badConfig.stderr, /\n\s+at /, 'no stack trace');
});

t.test('polyglot up --no-sample starts infra, schema and every process, runs until SIGTERM, then stops everything', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pc-up-'));
  await chmod(dataDir, 0o755);
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = {
    ...process.env,
    PC_LOG_LEVEL: 'warn',
    PC_DATA_DIR: dataDir,
    PC_NATS_URL: `nats://127.0.0.1:${await freePort()}`,
    PC_DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/polyglot`,
    PC_REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    PC_HTTP_PORT: String(await freePort()),
    PC_HISTORY_METRICS_PORT: String(await freePort()),
    PC_SFU_METRICS_PORT: String(await freePort()),
    PC_SIGNALING_METRICS_PORT: String(await freePort()),
    PC_SFU_WORKERS: '1',
  };
  // The defaults under test: loopback, and the development secret.
  const inherited: NodeJS.ProcessEnv = env;
  delete inherited.PC_HTTP_HOST;
  delete inherited.PC_JWT_SECRET;
  const up = spawn(process.execPath, nodeArgsFor('cli/src/polyglot.ts').concat('up', '--no-sample'), { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => up.kill('SIGKILL'));
  const exited = once(up, 'exit');
  let out = '';
  up.stdout.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    up.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('Press Ctrl-C to stop.')) resolve();
    });
    up.once('exit', (code) => reject(new Error(`polyglot up exited early (${code}): ${out}`)));
  });
  const credentials = await readCredentials(path.join(dataDir, 'infra', 'credentials.json'));
  t.notMatch(out, credentials.postgres.password, 'up never prints a password');
  t.match(out, `postgres://postgres:***@127.0.0.1:${new URL(env.PC_DATABASE_URL).port}/polyglot`);

  const withPassword = new URL(env.PC_DATABASE_URL);
  withPassword.password = credentials.postgres.password;
  const client = new pg.Client({ connectionString: withPassword.toString() });
  await client.connect();
  const { rows } = await client.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'translation_history'",
  );
  await client.end();
  t.ok(Number(rows[0]?.n) >= 2, 'migrated, with translation_history partitions for this month and the next');
  for (const name of ['history', 'stt-local', 'mt-local', 'sfu', 'signaling']) t.match(out, new RegExp(`${name}\\s+ready`), `${name} started and ready`);
  const ready = await fetch(`http://127.0.0.1:${env.PC_HTTP_PORT}/readyz`);
  t.equal(ready.status, 200, 'signaling answers on PC_HTTP_PORT');
  for (const variable of ['PC_HTTP_PORT', 'PC_SIGNALING_METRICS_PORT', 'PC_HISTORY_METRICS_PORT', 'PC_SFU_METRICS_PORT'] as const) {
    t.same(await listeningAddresses(Number(env[variable])), ['127.0.0.1'], `${variable} listens on loopback only`);
  }
  t.equal((await fetch(`http://127.0.0.1:${env.PC_HTTP_PORT}/metrics`)).status, 404, 'no metrics on the web port');
  t.equal((await fetch(`http://127.0.0.1:${env.PC_SIGNALING_METRICS_PORT}/metrics`)).status, 200);

  // Each process runs as its own NATS role, holds no other role's password, and workers no database.
  const processes = await descendantEnvs(up.pid ?? 0);
  const roleOf = (entry: string) => processes.find((p) => p.cmdline.includes(entry) && !p.cmdline.startsWith('/bin/sh'));
  for (const [entry, role] of [
    ['signaling/src/main', 'signaling'],
    ['sfu/src/main', 'sfu'],
    ['sql/src/history/main', 'history'],
    ['sidecars/stt-local/src/main', 'worker'],
    ['sidecars/mt-local/src/main', 'worker'],
  ] as const) {
    const proc = roleOf(entry);
    t.equal(proc?.env.get('PC_NATS_USER'), role, `${entry} connects as ${role}`);
    t.notMatch(proc?.env.get('PC_NATS_URL') ?? '', '@', `${entry}'s NATS URL carries no other user`);
    t.notOk(proc?.env.has('PC_INFRA_CREDENTIALS_FILE'), `${entry} cannot read every role's password`);
    if (role === 'worker') t.notOk(proc?.env.has('PC_DATABASE_URL') || proc?.env.has('PC_REDIS_URL'), `${entry} gets no database or Redis`);
  }

  up.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'exits 0 on SIGTERM');
  const probe = new Redis(env.PC_REDIS_URL, { enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await t.rejects(probe.connect(), 'its servers are stopped');
  probe.disconnect();
});

/** The local addresses of the TCP sockets listening on `port` (ss, from the kernel's table). */
async function listeningAddresses(port: number): Promise<string[]> {
  const { stdout } = await run('ss', ['-ltnH', `sport = :${port}`]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (line.trim().split(/\s+/)[3] ?? '').replace(/:\d+$/, ''));
}

t.test('polyglot up refuses a non-loopback host without a real secret, before starting anything', async (t) => {
  const env = { PC_HTTP_HOST: '', PC_JWT_SECRET: '', PC_JWKS_URL: '', PC_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), 'pc-up-')) };
  t.teardown(() => rm(env.PC_DATA_DIR, { recursive: true, force: true }));
  for (const args of [['up', '--host', '0.0.0.0'], ['up', '--host', '192.0.2.10', '--no-sample']]) {
    const res = await polyglot(args, env);
    t.not('code' in res ? res.code : 0, 0, args.join(' '));
    t.match(res.stderr, /listens on .* only with PC_JWT_SECRET \(or PC_JWKS_URL\)/, args.join(' '));
  }
  const viaEnv = await polyglot(['up'], { ...env, PC_HTTP_HOST: '0.0.0.0' });
  t.match(viaEnv.stderr, /listens on 0\.0\.0\.0 only with PC_JWT_SECRET/, 'PC_HTTP_HOST too');
});

t.test('the demo organization is random per data directory and kept in it, readable by its owner only', async (t) => {
  const a = await mkdtemp(path.join(os.tmpdir(), 'pc-org-'));
  const b = await mkdtemp(path.join(os.tmpdir(), 'pc-org-'));
  t.teardown(() => Promise.all([rm(a, { recursive: true, force: true }), rm(b, { recursive: true, force: true })]));
  const first = await demoOrganization(a);
  t.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(await demoOrganization(a), first, 'the same across restarts');
  t.not(await demoOrganization(b), first, 'another data directory, another organization');
  t.equal((await stat(path.join(a, 'demo', 'organization-id'))).mode & 0o777, 0o600);
});
