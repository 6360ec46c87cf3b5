// The local infra's credentials on the real servers: NATS lets each role do its job and nothing
// else, Postgres and Redis refuse a client without the password, the files are the owner's alone.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connect, StringCodec, type NatsConnection } from 'nats';
import pg from 'pg';
import t from 'tap';
import { LocalInfra } from '../src/infra/LocalInfra.js';
import { credentialsFile, readCredentials } from '../src/infra/infraCredentials.js';
import { freePort } from '../src/infra/ports.js';
import { natsConnectOptions } from '../src/natsConnectOptions.js';
import type { NatsRole } from '../src/natsPermissions.js';
import { finalCaptionSubject, interimCaptionSubject, sessionControlSubject, sfuRpcSubject, WORKER_ANNOUNCE_SUBJECT } from '../src/subjects.js';

const sc = StringCodec();

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(20);
  }
}

/** A connection as `role`, recording the server's asynchronous errors (permission violations). */
async function connectAs(infra: LocalInfra, role: NatsRole): Promise<{ nc: NatsConnection; errors: string[] }> {
  const { user, password } = (await readCredentials(infra.credentialsFile)).nats[role];
  const nc = await connect({ ...natsConnectOptions(infra.nats.url, { user, password }), name: `test-${role}` });
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error') errors.push(`${String(s.data)} ${s.permissionContext?.operation ?? ''} ${s.permissionContext?.subject ?? ''}`);
    }
  })();
  return { nc, errors };
}

t.test('a persistent local infra: every backend authenticates, each NATS role gets only its subjects', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-cred-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ports = { nats: await freePort(), postgres: await freePort(), redis: await freePort() };
  const infra = await LocalInfra.start({ dataDir: dir, ports });
  t.teardown(() => infra.stop());

  for (const file of [credentialsFile(dir), path.join(dir, 'nats', 'nats-server.conf'), path.join(dir, 'redis', 'redis-acl.conf'), path.join(dir, 'postgres', 'pg_hba.conf')]) {
    t.equal((await stat(file)).mode & 0o777, 0o600, `${path.relative(dir, file)} is 0600`);
  }
  const hba = await readFile(path.join(dir, 'postgres', 'pg_hba.conf'), 'utf8').catch(() => '');
  t.notMatch(hba.replace(/^#.*$/gm, ''), /trust/, 'no trust rule in pg_hba.conf');

  // NATS: nobody without credentials.
  await t.rejects(connect({ servers: infra.nats.url, reconnect: false }), /Authorization Violation/, 'NATS refuses a client without credentials');

  const admin = await connect(natsConnectOptions(infra.env.PC_NATS_URL));
  t.teardown(() => admin.close());
  const seen: string[] = [];
  admin.subscribe('>', { callback: (_err, msg) => seen.push(msg.subject) });
  let rpcCalls = 0;
  admin.subscribe(sfuRpcSubject('n1'), { callback: (_err, msg) => {
    rpcCalls++;
    msg.respond(sc.encode('pong'));
  } });
  await admin.flush();

  const worker = await connectAs(infra, 'worker');
  t.teardown(() => worker.nc.close());
  worker.nc.publish(finalCaptionSubject('s1', 'es'), sc.encode('injected final'));
  worker.nc.publish(interimCaptionSubject('s1', 'es'), sc.encode('injected interim'));
  await worker.nc.flush();
  await until('the server reports the violations', () => worker.errors.filter((e) => /PERMISSIONS_VIOLATION publish/.test(e)).length >= 2);
  t.match(worker.errors.join('\n'), finalCaptionSubject('s1', 'es'), 'publishing a final caption is a permission violation');
  t.match(worker.errors.join('\n'), interimCaptionSubject('s1', 'es'), 'so is an interim caption');
  await t.rejects(worker.nc.request(sfuRpcSubject('n1'), sc.encode('ping'), { timeout: 2_000 }), 'a worker cannot call an SFU RPC');
  await until('the reply subscription is refused', () => worker.errors.some((e) => /PERMISSIONS_VIOLATION subscription/.test(e)));
  worker.nc.publish(WORKER_ANNOUNCE_SUBJECT, sc.encode('{}'));
  await worker.nc.flush();
  await until('the announcement arrives', () => seen.includes(WORKER_ANNOUNCE_SUBJECT));
  t.notOk(seen.some((s) => s.includes('.cap.') || s.includes('.icap.')), 'no caption from the worker reached anyone');
  t.equal(rpcCalls, 0, 'the SFU never saw the worker\'s request');

  const signaling = await connectAs(infra, 'signaling');
  t.teardown(() => signaling.nc.close());
  t.equal(sc.decode((await signaling.nc.request(sfuRpcSubject('n1'), sc.encode('ping'), { timeout: 5_000 })).data), 'pong', 'signaling calls the SFU');
  const interims: string[] = [];
  signaling.nc.subscribe(interimCaptionSubject('s1', 'es'), { callback: (_err, msg) => interims.push(sc.decode(msg.data)) });
  await signaling.nc.flush();
  admin.publish(interimCaptionSubject('s1', 'es'), sc.encode('hola'));
  signaling.nc.publish(sessionControlSubject('s1'), sc.encode('{}'));
  await signaling.nc.flush();
  await until('signaling reads interims and publishes control', () => interims.includes('hola') && seen.includes(sessionControlSubject('s1')));
  const jsm = await signaling.nc.jetstreamManager();
  t.ok(await jsm.getAccountInfo(), 'signaling reaches the JetStream API it needs');
  signaling.nc.publish(finalCaptionSubject('s1', 'es'), sc.encode('x'));
  await signaling.nc.flush();
  await until('signaling publishing a caption is refused', () => signaling.errors.some((e) => /PERMISSIONS_VIOLATION publish/.test(e)));
  t.equal(rpcCalls, 1);

  // Postgres: scram-sha-256 for everyone, no trust.
  const withoutPassword = new URL(infra.env.PC_DATABASE_URL);
  withoutPassword.password = '';
  const refused = new pg.Client({ connectionString: withoutPassword.toString(), password: '' });
  await t.rejects(refused.connect(), /password/, 'Postgres refuses a connection without the password');
  const wrong = new URL(infra.env.PC_DATABASE_URL);
  wrong.password = 'not-the-password';
  await t.rejects(new pg.Client({ connectionString: wrong.toString() }).connect(), /password authentication failed/, 'and one with a wrong password');
  const client = new pg.Client({ connectionString: infra.env.PC_DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ rules: string[] }>("SELECT array_agg(DISTINCT auth_method) AS rules FROM pg_hba_file_rules");
  await client.end();
  t.same(rows[0]?.rules, ['scram-sha-256'], 'every pg_hba rule asks for scram-sha-256');

  // Redis: ACL user only; the default user is off.
  const redisUrl = new URL(infra.env.PC_REDIS_URL);
  const anonymous = new Redis({ host: '127.0.0.1', port: Number(redisUrl.port), lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await anonymous.connect();
  await t.rejects(anonymous.get('k'), /NOAUTH/, 'Redis refuses a command without credentials');
  await t.rejects(anonymous.auth('default', ''), /WRONGPASS|disabled/, 'the default user cannot log in');
  anonymous.disconnect();
  const redis = new Redis(infra.env.PC_REDIS_URL, { maxRetriesPerRequest: 0 });
  t.equal(await redis.ping(), 'PONG', 'the generated user gets in');
  redis.disconnect();

  // A restart keeps the passwords; a lost credentials file gets new ones, set on the existing cluster.
  await infra.stop();
  const before = await readCredentials(credentialsFile(dir));
  await rm(credentialsFile(dir));
  const again = await LocalInfra.start({ dataDir: dir, ports });
  t.teardown(() => again.stop());
  const after = await readCredentials(credentialsFile(dir));
  t.not(after.postgres.password, before.postgres.password, 'new credentials were generated');
  const reconnected = new pg.Client({ connectionString: again.env.PC_DATABASE_URL });
  await reconnected.connect();
  await reconnected.end();
  t.pass('the existing cluster takes the new password');
  await t.rejects(new pg.Client({ connectionString: infra.env.PC_DATABASE_URL }).connect(), /password authentication failed/, 'and no longer the old one');
});

t.test('a throwaway set lets credential-less test code in as the admin, and the env hands out URLs with credentials', async (t) => {
  const infra = await LocalInfra.start();
  t.teardown(() => infra.stop());
  const nc = await connect({ servers: infra.nats.url });
  await nc.close();
  t.match(infra.env.PC_NATS_URL, /^nats:\/\/admin:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/);
  // nats.js reads a password that starts with a digit as the port: a bare connect with this URL must still work.
  for (const { password } of Object.values((await readCredentials(infra.credentialsFile)).nats)) t.match(password, /^[A-Za-z]/);
  const bare = await connect({ servers: infra.env.PC_NATS_URL });
  t.equal(bare.getServer(), `127.0.0.1:${infra.nats.url.split(':').pop()}`, 'a bare connect with the URL reaches the server');
  await bare.close();
  t.match(infra.env.PC_DATABASE_URL, /^postgres:\/\/postgres:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/polyglot$/);
  t.match(infra.env.PC_REDIS_URL, /^redis:\/\/polyglot:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+$/);
});
