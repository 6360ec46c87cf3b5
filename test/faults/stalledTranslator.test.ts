// Fault 8f: a translation worker that accepts calls and never answers. The client's timeout ends
// each call, the translation falls back to the next engine of the chain (apertium), the stalled
// engine's breaker opens (seen in the SFU's metrics), and Spanish captions keep flowing, every
// final once.
import t from 'tap';
import { moduleLog } from '../../core/src/log.js';
import { WorkerRegistry } from '../../sidecars/client/src/index.js';
import { startWorkerProcess } from '../standins/workerProcess.js';
import { assertEveryFinalOnce, startFaultBed, storedFinals, until } from './support/faultBed.js';

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((label) => l.includes(label)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

t.test('a hanging translation worker: timeout, fallback, breaker, and captions keep flowing', { timeout: 400_000 }, async (t) => {
  const bed = await startFaultBed(t, {
    PC_TRANSLATION_ENGINES: 'stalled,apertium',
    PC_TRANSLATION_TIMEOUT_MS: '800',
    PC_TRANSLATION_MAX_RETRIES: '1',
    PC_TRANSLATION_BREAKER_FAILURES: '3',
    PC_TRANSLATION_BREAKER_COOLDOWN_MS: '600000',
  });
  const metricsUrl = `http://127.0.0.1:${bed.platform.env.PC_SFU_METRICS_PORT}/metrics`;
  const scrape = async () => (await fetch(metricsUrl)).text();
  const stalled = await startWorkerProcess(t, 'test/standins/stalledWorker.ts', { PC_NATS_URL: bed.infra.env.PC_NATS_URL, PC_ANNOUNCE_INTERVAL_MS: '500' });
  t.teardown(() => stalled.stop());
  const registry = await WorkerRegistry.start({ nats: bed.nc, log: moduleLog('fault-f') });
  t.teardown(() => registry.close());
  await until('the stalled worker is announced for en>es', () => registry.pickTranslator({ source: 'en', target: 'es' }, 'stalled') !== undefined, 15_000);

  const en = await bed.viewer('en');
  const es = await bed.viewer('es');
  const publisher = await bed.publish();
  const timeoutsSeen = await until(
    'a call to the stalled engine timed out and fell back',
    async () => metric(await scrape(), 'pc_translation_fallbacks_total', 'engine="stalled",reason="timeout"') > 0,
    60_000,
  );
  t.pass(`the stalled engine's call timed out and fell back (${timeoutsSeen} ms after publishing started)`);
  const breakerMs = await until('the stalled engine\'s breaker opened', async () => metric(await scrape(), 'pc_translation_breaker_open', 'engine="stalled"') === 1, 60_000);
  t.pass(`breaker open for the stalled engine ${breakerMs} ms later`);
  const afterBreaker = es.lastSeq;
  await es.until('three Spanish finals after the breaker opened', () => es.lastSeq >= Math.max(afterBreaker, 0) + 3, 90_000);
  const scraped = await scrape();
  t.ok(metric(scraped, 'pc_translation_fallbacks_total', 'engine="stalled",reason="breaker_open"') > 0, 'with the breaker open, translations skip the stalled engine at once');
  await publisher.stop();
  const counts = await assertEveryFinalOnce(t, bed, { en: [en], es: [es] });

  const engines = new Set((await storedFinals(bed.nc, bed.session, 'es')).map((e) => e.engine));
  t.same([...engines], ['apertium'], 'every Spanish final was translated by the fallback engine');
  t.comment(`finals ${JSON.stringify(counts)}; stalled calls timed out: ${metric(scraped, 'pc_translation_fallbacks_total', 'engine="stalled",reason="timeout"')}`);
});
