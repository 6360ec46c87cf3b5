import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import t from 'tap';
import { OfferedLanguages } from '../src/languages/OfferedLanguages.js';
import { moduleLog } from '../src/log.js';
import { encodeWorkerMessage, type WorkerMessageInput } from '../src/workers/workerMessage.js';
import { useInfra } from './support/infra.js';

const log = moduleLog('test');

t.test('the languages on offer follow the translation workers: announce, goodbye, TTL, and everything while warming up', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const subject = `test.offered.${randomUUID()}`;
  let now = 1_000_000;
  const warm = await OfferedLanguages.start({ nc, log, subject, now: () => now, warmUpMs: 3_000 });
  t.teardown(() => warm.close());
  t.ok(warm.offers('en', 'tlh'), 'while warming up, before every worker has announced, anything goes');
  const offered = await OfferedLanguages.start({ nc, log, subject, now: () => now, warmUpMs: 0 });
  t.teardown(() => offered.close());
  t.notOk(offered.offers('en', 'es'), 'no worker, no language');

  const announce = async (message: WorkerMessageInput) => {
    nc.publish(subject, encodeWorkerMessage(message));
    await nc.flush(); // the same connection: the subscription has it once the round trip is back
  };
  const mt = { v: 1, type: 'announce', id: 'mt-1', kind: 'TRANSLATION', engine: 'fake', address: 'x:1', maxStreams: 0, activeStreams: 0, ttlMs: 6_000 } as const;
  await announce({ ...mt, pairs: [{ source: 'en', target: 'es' }, { source: 'EN', target: 'PT-br' }] });
  await announce({ v: 1, type: 'announce', id: 'stt-1', kind: 'SPEECH_TO_TEXT', engine: 'fake', languages: ['de'], address: 'x:2', maxStreams: 0, activeStreams: 0, ttlMs: 6_000 });
  t.ok(offered.offers('en', 'es'));
  t.ok(offered.offers('en', 'es-MX'), 'a bare language covers its regions');
  t.ok(offered.offers('en', 'pt-BR'), 'announced tags are canonical');
  t.notOk(offered.offers('en', 'pt-PT'));
  t.notOk(offered.offers('es', 'en'), 'pairs are directed');
  t.notOk(offered.offers('en', 'de'), 'a speech worker offers no translation');

  now += 6_001;
  t.notOk(offered.offers('en', 'es'), 'a worker that stopped announcing is gone after its TTL');
  await announce({ ...mt, pairs: [{ source: 'en', target: 'es' }] });
  t.ok(offered.offers('en', 'es'));
  await announce({ v: 1, type: 'goodbye', id: 'mt-1', kind: 'TRANSLATION' });
  t.notOk(offered.offers('en', 'es'), 'a goodbye removes it at once');
});
