import * as grpc from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import t from 'tap';

import { loadContract, onceEvent, type TranslateResponse__Output } from '../../../sdk/src/index.js';
import { natsConnection, useNats } from '../../../sdk/test/useNats.js';
import { WorkerProcess } from '../../../sdk/test/workerProcess.js';
import { TranslationClient, WorkerRegistry } from '../../../client/src/index.js';
import { useInfra } from '../../../../core/test/support/infra.js';
import { PigLatinEngine } from '../src/PigLatinEngine.js';

t.test('Pig Latin, with glossary terms kept as given', async (t) => {
  const results = await new PigLatinEngine().translate({
    texts: ['Hello world, this is Polyglot speaking', 'apple'],
    source: 'en',
    targets: ['en-x-piglatin'],
    glossaries: [{ orgId: 'o', source: 'en', target: 'en-x-piglatin', version: 1, entries: [{ sourceTerm: 'polyglot', targetTerm: 'Polyglot' }] }],
    purpose: 'live',
    orgId: 'o',
    requestId: 'r',
  });
  t.same(results.map((r) => r.text), ['Ellohay orldway, isthay isway Polyglot eakingspay', 'appleway']);
});

t.test('the example worker is picked up by a registry started before it, without restarting anything', async (t) => {
  const subject = `test.integrators.${process.pid}`;
  const registry = await WorkerRegistry.start({ nats: await natsConnection(t), subject });
  t.teardown(() => registry.close());
  t.equal(registry.pickTranslationWorker('en', 'en-x-piglatin'), undefined, 'nobody translates into Pig Latin yet');

  const added = onceEvent(registry, 'workerAdded');
  const worker = new WorkerProcess(t, 'sidecars/examples/mt-piglatin/src/main.ts', {
    PC_NATS_URL: await useNats(),
    PC_REGISTRY_SUBJECT: subject,
    PC_METRICS_PORT: 'off',
  });
  const [info] = await added;
  t.match(info, { kind: 'TRANSLATION', engine: 'piglatin', pairs: [{ source: 'en', target: 'en-x-piglatin' }] });
  await worker.ready;

  const picked = registry.pickTranslationWorker('en-US', 'en-x-piglatin');
  t.equal(picked?.id, info.id);
  const client = new (loadContract().Translator.Client)(picked?.address ?? '', grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await new Promise<TranslateResponse__Output>((resolve, reject) =>
    client.Translate({ texts: ['Welcome everyone'], sourceLanguage: 'en-US', targetLanguages: ['en-x-piglatin', 'en-GB'], orgId: 'o' }, (err, value) =>
      err || !value ? reject(err ?? new Error('no response')) : resolve(value),
    ),
  );
  t.same(response.results.map((r) => [r.targetLanguage, r.text, r.engine]), [
    ['en-x-piglatin', 'Elcomeway everyoneway', 'piglatin'],
    ['en-GB', 'Welcome everyone', 'identity'],
  ]);

  // The platform's translation client, configured for the cloud and Apertium engines only, uses
  // the new worker for the new pair: an integrator changes no configuration and restarts nothing.
  const redis = new Redis((await useInfra()).PC_REDIS_URL);
  t.teardown(() => redis.disconnect());
  const translation = new TranslationClient({ directory: registry, redis, registry: new Registry(), chains: { default: ['google', 'deepl', 'apertium'] } });
  const outcome = await translation.translate({ texts: [`Good morning ${process.pid}`], source: 'en', targets: ['en-x-piglatin'], orgId: 'o', purpose: 'live' });
  t.same(outcome.failures, []);
  t.match(outcome.translations, [{ target: 'en-x-piglatin', text: `Oodgay orningmay ${process.pid}`, engine: 'piglatin', cached: false }]);
});
