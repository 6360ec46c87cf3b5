import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import rootTap from 'tap';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, useInfra } from '../../core/test/support/infra.js';
import { createDb, migrateToLatest } from '../../sql/src/index.js';
import { SessionGate } from '../src/SessionGate.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { SfuNode } from '../src/SfuNode.js';
import { LISTEN, connectNats, countRtp, startPool, uniqueId, watchSession, within } from './_harness.js';

t.test('polyglot publish makes a producer a consumer receives RTP from; SIGTERM stops it and closes the producer', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connectNats(t);
  const pool = await startPool(t, 1);
  const sfu = await SfuNode.start({ nc, node: uniqueId('sfu'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  t.teardown(() => sfu.close());
  const session = uniqueId('pub');
  const watch = await watchSession(t, nc, session);
  const wav = await makeSpeechWav(t, 'Good morning everyone, and welcome.', { sampleRate: 48_000 });

  const cli = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', wav, '--loop', '--node', sfu.node], {
    env: { ...process.env, PC_NATS_URL, PC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = once(cli, 'exit');
  t.teardown(() => {
    if (cli.exitCode === null && cli.signalCode === null) cli.kill('SIGKILL');
  });

  const added = await within(30_000, watch.next((e) => e.type === 'producerAdded'), () => 'no producerAdded event');
  if (added.type !== 'producerAdded') throw new Error('unreachable');
  t.match(added.peer, /^publisher-/, `a producer of peer ${added.peer}`);
  const media = sfu.sessionForTesting(session);
  if (!media) throw new Error('no session');
  const transport = await media.createDirectTransport('listener');
  const rtp = countRtp(await media.consume('listener', transport, added.producerId));
  await within(20_000, rtp.reached(50), () => `${rtp.count} packets`);
  t.ok(rtp.count >= 50, `the consumer received ${rtp.count} RTP packets from polyglot publish (real time, looped)`);

  cli.kill('SIGTERM');
  const [code] = await within(10_000, exited, () => 'polyglot publish did not exit');
  t.equal(code, 0, 'polyglot publish exits 0 on SIGTERM');
  t.match(await watch.next((e) => e.type === 'producerClosed'), { producerId: added.producerId, reason: 'peer_closed' }, 'and closed its producer');
  t.same(media.listProducers(), [], 'no producer left');
});

t.test('polyglot publish rejects a bad command line with exit code 2', async (t) => {
  const cli = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', 'a.b', '--wav', '/nonexistent.wav'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  cli.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = await once(cli, 'exit');
  t.equal(code, 2, 'exit code 2');
  t.match(stderr, /--session must be/, 'says what is wrong');
});

t.test('polyglot publish into a session that does not exist or has ended fails at once, saying how to create one', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  // The database lives until the file ends (the root's teardown), so the pool is closed before it is dropped.
  const db = createDb({ url: await createTestDatabase(rootTap), poolMax: 2, applicationName: 'publish-test' });
  t.teardown(() => db.destroy());
  await migrateToLatest(db);
  const org = randomUUID();
  const user = randomUUID();
  await db.insertInto('organizations').values({ id: org, name: 'Org' }).execute();
  await db.insertInto('users').values({ id: user, organization_id: org, email: 'h@example.test', display_name: 'Host' }).execute();
  const ended = await db
    .insertInto('sessions')
    .values({ organization_id: org, organizer_id: user, title: 'Over', source_language: 'en', status: 'ended', started_at: new Date(), ended_at: new Date() })
    .returning('id')
    .executeTakeFirstOrThrow();

  const nc = await connectNats(t);
  const pool = await startPool(t, 1);
  const sfu = await SfuNode.start({ nc, node: uniqueId('sfu'), pool, listen: LISTEN, maxConsumersPerRouter: 500, sessionGate: new SessionGate(db) });
  t.teardown(() => sfu.close());
  const wav = await makeSpeechWav(t, 'Nobody will hear this.', { sampleRate: 48_000 });

  const cases: Array<[string, string, RegExp]> = [
    ['missing', randomUUID(), /does not exist: create one first \(POST \/api\/sessions/],
    ['not a session id at all', 'no-such-session', /does not exist/],
    ['ended', ended.id, /has ended: create one first/],
  ];
  for (const [what, session, message] of cases) {
    const watch = await watchSession(t, nc, session);
    const cli = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', wav, '--node', sfu.node], {
      env: { ...process.env, PC_NATS_URL, PC_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    cli.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const [code] = await within(30_000, once(cli, 'exit'), () => `polyglot publish (${what}) did not exit`);
    t.equal(code, 1, `${what}: exits 1`);
    t.match(stderr, message, `${what}: says so`);
    t.notMatch(stderr, /\n\s+at /, `${what}: no stack trace`);
    t.notOk(watch.events.some((e) => e.type === 'producerAdded'), `${what}: nothing was published`);
    t.equal(sfu.sessionForTesting(session)?.listProducers().length ?? 0, 0, `${what}: no producer on the SFU`);
  }
});
