import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, useInfra } from '../../core/test/support/infra.js';
import { createDb, migrateToLatest } from '../../sql/src/index.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { UnavailableError } from '../../core/src/errors.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { decodeNodeMessage, type NodeMessage } from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT } from '../../core/src/subjects.js';
import { connectNats, uniqueId, watchSession, within } from './_harness.js';

const SHUTDOWN_BOUND_MS = 5_000;

t.test('the SFU process serves RPC, metrics and /healthz; SIGTERM says goaway, closes sessions, exits 0 in time', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connectNats(t);
  const node = uniqueId('sfu');
  // The SFU publishes only into sessions of its database: one, seeded here.
  const databaseUrl = await createTestDatabase(t);
  const db = createDb({ url: databaseUrl, poolMax: 1, applicationName: 'sfu-process-test' });
  await migrateToLatest(db);
  const org = randomUUID();
  const user = randomUUID();
  await db.insertInto('organizations').values({ id: org, name: 'Org' }).execute();
  await db.insertInto('users').values({ id: user, organization_id: org, email: 'h@example.test', display_name: 'Host' }).execute();
  const seeded = await db.insertInto('sessions').values({ organization_id: org, organizer_id: user, title: 'Live', source_language: 'en' }).returning('id').executeTakeFirstOrThrow();
  await db.destroy();

  const nodeMessages: NodeMessage[] = [];
  let announced!: () => void;
  let wentAway!: () => void;
  const firstAnnounce = new Promise<void>((r) => (announced = r));
  const goaway = new Promise<void>((r) => (wentAway = r));
  const sub = nc.subscribe(SFU_ANNOUNCE_SUBJECT, {
    callback: (_err, msg) => {
      const m = decodeNodeMessage(msg.data);
      if (m.node !== node) return;
      nodeMessages.push(m);
      if (m.type === 'announce') announced();
      else wentAway();
    },
  });
  t.teardown(() => sub.unsubscribe());
  await nc.flush();

  const child = spawn(process.execPath, nodeArgsFor('sfu/src/main.ts'), {
    env: {
      ...process.env,
      PC_NATS_URL,
      PC_DATABASE_URL: databaseUrl,
      PC_LOG_LEVEL: 'info',
      PC_SFU_NODE_ID: node,
      PC_SFU_WORKERS: '1',
      PC_SFU_METRICS_PORT: '0',
      PC_SFU_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_BOUND_MS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const logs: string[] = [];
  const ready = new Promise<number>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      logs.push(line);
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        return; // not a log line
      }
      if (typeof entry === 'object' && entry !== null && 'msg' in entry && entry.msg === 'SFU ready' && 'metricsPort' in entry && typeof entry.metricsPort === 'number') {
        resolve(entry.metricsPort);
      }
    });
  });
  const metricsPort = await within(30_000, ready, () => `no 'SFU ready' log line; logs:\n${logs.join('\n')}`);
  await within(10_000, firstAnnounce, () => 'no announcement');

  const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  t.equal(health.status, 200, '/healthz is 200 while serving');
  t.match(await health.json(), { ok: true, node, workers: 1 }, '/healthz body');

  const client = new SfuClient({ nc });
  const sessions = [seeded.id, uniqueId('b')];
  const watches = await Promise.all(sessions.map((s) => watchSession(t, nc, s)));
  await client.request(node, 'createPlainPublisher', { session: sessions[0]! });
  await client.request(node, 'getRouterRtpCapabilities', { session: sessions[1]! });

  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  t.match(metrics, new RegExp(`pc_sfu_sessions\\{node="${node}"\\} 2`), 'metrics: two sessions');
  t.match(metrics, /pc_sfu_rpc_total\{method="createPlainPublisher",code="ok",node="[^"]+"\} 1/, 'metrics: RPCs counted by method and code');
  t.match(metrics, /pc_sfu_rpc_duration_seconds_bucket/, 'metrics: RPC latency histogram');

  const started = performance.now();
  child.kill('SIGTERM');
  const [code, signal] = await within(SHUTDOWN_BOUND_MS + 5_000, exited, () => 'the SFU did not exit');
  const elapsedMs = performance.now() - started;
  t.equal(code, 0, `exit code 0 (signal ${signal})`);
  t.ok(elapsedMs < SHUTDOWN_BOUND_MS, `exited within the bound: ${Math.round(elapsedMs)} ms < ${SHUTDOWN_BOUND_MS} ms`);
  t.comment(`SIGTERM to exit: ${Math.round(elapsedMs)} ms`);

  await within(5_000, goaway, () => `node messages: ${JSON.stringify(nodeMessages)}`);
  t.equal(nodeMessages.at(-1)?.type, 'goaway', 'goaway published');
  for (const [i, watch] of watches.entries()) {
    t.match(await within(5_000, watch.next((e) => e.type === 'sessionClosed'), () => JSON.stringify(watch.events)), { reason: 'shutdown', node }, `session ${i + 1}: sessionClosed (shutdown)`);
  }
  await t.rejects(client.request(node, 'listProducers', { session: sessions[0]! }), UnavailableError, 'nobody answers for the node afterwards');
});
