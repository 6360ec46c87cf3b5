import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import t from 'tap';

import {
  createTranslationWorker,
  loadContract,
  onceEvent,
  type TranslateRequest,
  type TranslateResponse__Output,
  type TranslationEngine,
  type TranslationRequest,
  type TranslatorClient,
} from '../../sdk/src/index.js';
import { natsConnection, useNats } from '../../sdk/test/useNats.js';
import { WorkerProcess } from '../../sdk/test/workerProcess.js';
import { WorkerRegistry } from '../../client/src/index.js';
import { ApertiumEngine, pairOfMode } from '../src/ApertiumEngine.js';
import { protectTerms, restoreTerms } from '../src/glossary.js';

const log = pino({ level: 'silent' });

function translate(client: TranslatorClient, request: TranslateRequest): Promise<TranslateResponse__Output> {
  return new Promise((resolve, reject) =>
    client.Translate(request, (err, value) => (err || !value ? reject(err ?? new Error('no response')) : resolve(value))),
  );
}

const engine = await ApertiumEngine.start({ modes: ['eng-spa', 'spa-eng', 'eng-cat', 'en-gl'], log });
t.teardown(() => engine.close());

t.test('mode names map to BCP-47 pairs', async (t) => {
  t.same(pairOfMode('eng-spa'), { source: 'en', target: 'es' });
  t.same(pairOfMode('gl-en'), { source: 'gl', target: 'en' });
  t.throws(() => pairOfMode('eng-cat_valencia'), TypeError);
  t.same(engine.pairs, [
    { source: 'en', target: 'es' },
    { source: 'es', target: 'en' },
    { source: 'en', target: 'ca' },
    { source: 'en', target: 'gl' },
  ]);
});

t.test('a batch into several targets through the gRPC worker', async (t) => {
  // The worker closes its engine on shutdown; this file's later tests still need this one.
  const shared: TranslationEngine = { name: engine.name, pairs: engine.pairs, maxStreams: 0, translate: (r, s) => engine.translate(r, s), close: async () => {} };
  const worker = await createTranslationWorker({ engine: shared, log, metricsPort: null });
  t.teardown(() => worker.shutdown());
  const client = new (loadContract().Translator.Client)(worker.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const started = performance.now();
  const response = await translate(client, {
    texts: ['thank you very much for joining us this afternoon', 'the slides will be available after the meeting'],
    sourceLanguage: 'en-US',
    targetLanguages: ['es', 'ca', 'gl-ES'],
    orgId: 'org-1',
  });
  t.comment(`2 texts x 3 targets in ${(performance.now() - started).toFixed(0)} ms`);
  for (const r of response.results) t.comment(`${r.targetLanguage}: ${r.text}`);
  t.same(response.results.map((r) => [r.textIndex, r.targetLanguage, r.engine]), [
    [0, 'es', 'apertium'],
    [1, 'es', 'apertium'],
    [0, 'ca', 'apertium'],
    [1, 'ca', 'apertium'],
    [0, 'gl-ES', 'apertium'],
    [1, 'gl-ES', 'apertium'],
  ]);
  t.match(response.results[0]?.text, /^Muchas gracias .*tarde$/);
  t.match(response.results[1]?.text, /reunión$/);
  t.match(response.results[2]?.text, /^Gràcies .*tarda$/);
  t.match(response.results[4]?.text, /^Moitas grazas .*tarde$/);
  t.match(response.results[5]?.text, /reunión$/);
  await t.rejects(translate(client, { texts: ['hola'], sourceLanguage: 'es', targetLanguages: ['ca'], orgId: 'o' }), {
    code: grpc.status.NOT_FOUND,
    details: /does not translate es -> ca/,
  });
});

t.test('glossary terms are substituted (or kept) per target', async (t) => {
  const request: TranslationRequest = {
    texts: ['the roadmap is ready for the keynote', 'We will present Polyglot Connect today.', 'Roadmap first'],
    source: 'en',
    targets: ['es', 'ca'],
    glossaries: [
      {
        orgId: 'org-1',
        source: 'en',
        target: 'es',
        version: 4,
        entries: [
          { sourceTerm: 'roadmap', targetTerm: 'hoja de ruta' },
          { sourceTerm: 'keynote', targetTerm: 'conferencia principal' },
          { sourceTerm: 'Polyglot Connect', targetTerm: 'Polyglot Connect' },
        ],
      },
    ],
    purpose: 'live',
    orgId: 'org-1',
    requestId: 'r',
  };
  const results = await engine.translate(request, new AbortController().signal);
  for (const r of results) t.comment(`${r.target}: ${r.text}`);
  const es = results.filter((r) => r.target === 'es').map((r) => r.text);
  t.match(es[0], /^El hoja de ruta .*conferencia principal$/, 'terms substituted in place');
  t.match(es[1], /Polyglot Connect hoy\.$/, 'a protected name stays as is (without the glossary: "Polyglot Conectar")');
  t.match(es[2], /^Hoja de ruta/, 'a term starting the text gets a capital');
  const ca = results.filter((r) => r.target === 'ca').map((r) => r.text);
  t.match(ca[0], /roadmap/, 'no glossary for Catalan: the unknown word passes through');
  t.notMatch(ca.join(' '), /\d/, 'no placeholder leaks into a target without a glossary');

  const protectedText = protectTerms('90017 and the Roadmap, roadmaps and ROADMAP', [{ sourceTerm: 'roadmap', targetTerm: 'plan' }]);
  t.equal(protectedText.text, '90017 and the 73100, roadmaps and 73100', 'whole words only, any case; placeholders avoid numbers in the text');
  t.equal(restoreTerms('90017 y el 73100, roadmaps y 73100', protectedText), '90017 y el plan, roadmaps y plan');
  t.equal(restoreTerms('90017 y el, roadmaps', protectedText), undefined, 'a lost placeholder is reported');
});

t.test('many requests in flight on one pipeline; a killed Apertium stage is restarted and nothing is lost', async (t) => {
  const pipeline = engine.pipelineForTesting('en', 'es');
  t.ok(pipeline);
  if (!pipeline) return;
  const texts = Array.from({ length: 60 }, (_, i) => `meeting number ${i} starts after the break`);
  const request: TranslationRequest = { texts, source: 'en', targets: ['es'], glossaries: [], purpose: 'live', orgId: 'o', requestId: 'r' };
  const started = performance.now();
  const baseline = await engine.translate(request, new AbortController().signal);
  const ms = performance.now() - started;
  t.comment(`60 texts pipelined on one Apertium pipeline: ${ms.toFixed(0)} ms (${(ms / 60).toFixed(1)} ms per text)`);
  t.match(baseline[7]?.text, /7/);

  // Kill one stage in the middle of the pipeline while all 60 requests are in flight.
  const stages = pipeline.stagePidsForTesting();
  t.ok(stages.length >= 5, `${stages.length} stages`);
  const victim = stages[Math.floor(stages.length / 2)] ?? 0;
  const restarted = onceEvent(pipeline, 'restart');
  const inFlight = engine.translate(request, new AbortController().signal);
  t.ok(pipeline.pending > 0, `${pipeline.pending} requests in flight at the kill`);
  process.kill(victim, 'SIGKILL');
  const [{ reason, resent }] = await restarted;
  t.comment(`restart: ${reason.split(';')[0]}; ${resent} requests sent again`);
  t.same((await inFlight).map((r) => r.text), baseline.map((r) => r.text), 'every request answered, in order, as before');

  // And the whole pipeline at once, while idle.
  const again = onceEvent(pipeline, 'restart');
  for (const pid of pipeline.stagePidsForTesting()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (err) {
      // A stage whose neighbour was just killed may already have exited on the broken pipe.
      if (!(err instanceof Error && 'code' in err && err.code === 'ESRCH')) throw err;
    }
  }
  await again;
  t.same((await engine.translate({ ...request, texts: texts.slice(0, 3) }, new AbortController().signal)).map((r) => r.text), baseline.slice(0, 3).map((r) => r.text));
  t.equal(pipeline.restarts, 2);
});

t.test('mt-local main.ts as a process: announced, picked by the registry, translates', async (t) => {
  const natsUrl = await useNats();
  const subject = `test.mtlocal.${process.pid}`;
  const registry = await WorkerRegistry.start({ nats: await natsConnection(t), subject });
  t.teardown(() => registry.close());
  const added = onceEvent(registry, 'workerAdded');
  const worker = new WorkerProcess(t, 'sidecars/mt-local/src/main.ts', {
    PC_NATS_URL: natsUrl,
    PC_REGISTRY_SUBJECT: subject,
    PC_MT_MODES: 'spa-eng',
    PC_METRICS_PORT: 'off',
  });
  const [[info]] = await Promise.all([added, worker.ready]);
  t.match(info, { kind: 'TRANSLATION', engine: 'apertium', pairs: [{ source: 'es', target: 'en' }] });
  const picked = registry.pickTranslationWorker('es-MX', 'en');
  const client = new (loadContract().Translator.Client)(picked?.address ?? '', grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await translate(client, { texts: ['Muchas gracias por venir'], sourceLanguage: 'es', targetLanguages: ['en'], orgId: 'o' });
  t.match(response.results[0]?.text, /^Thank you very much|^Many thanks/i);
  t.comment(`es -> en: ${response.results[0]?.text}`);
  worker.kill('SIGTERM');
  t.match(await worker.exited, { code: 0 });
});
