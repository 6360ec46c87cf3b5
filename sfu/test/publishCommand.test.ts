import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { useInfra } from '../../core/test/support/infra.js';
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
