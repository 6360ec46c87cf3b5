// Fault 8e: Redis down mid-session. The translation cache degrades (misses, no writes) and the
// pipeline does not: Spanish captions keep coming. Redis back: translations are cached again.
import { Redis } from 'ioredis';
import t from 'tap';
import { assertEveryFinalOnce, startFaultBed, until } from './support/faultBed.js';

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

t.test('Redis down: captions go on uncached; Redis back: cached again', { timeout: 400_000 }, async (t) => {
  const bed = await startFaultBed(t);
  const metricsUrl = `http://127.0.0.1:${bed.platform.env.PC_SFU_METRICS_PORT}/metrics`;
  const lookups = async () => {
    const text = await (await fetch(metricsUrl)).text();
    return { hit: metric(text, 'pc_translation_cache_total', 'result="hit"'), miss: metric(text, 'pc_translation_cache_total', 'result="miss"') };
  };
  const redis = new Redis(bed.infra.env.PC_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  redis.on('error', () => undefined); // down on purpose for part of the test; every command below checks its own result
  await redis.connect();
  t.teardown(() => redis.disconnect());
  const cachedKeys = async () => (await redis.keys('pc:tr:*')).length;

  const en = await bed.viewer('en');
  const es = await bed.viewer('es');
  const publisher = await bed.publish();
  await es.until('a first Spanish final', () => es.lastSeq >= 1, 90_000);
  await until('a Spanish translation is cached', async () => (await cachedKeys()) > 0, 60_000);
  const keysBefore = await cachedKeys();

  await bed.infra.redis.down();
  const downAt = Date.now();
  const before = es.lastSeq;
  await es.until('three Spanish finals with Redis down', () => es.lastSeq >= before + 3, 60_000);
  const outageMs = Date.now() - downAt;
  t.pass(`with Redis down, ${es.lastSeq - before} Spanish finals in ${outageMs} ms`);
  const duringOutage = await lookups();

  await bed.infra.redis.up();
  const upAt = Date.now();
  t.equal(await cachedKeys(), 0, 'Redis came back empty (tests run it without persistence)');
  const recachedMs = await until('a translation is cached again', async () => (await cachedKeys()) > 0, 60_000);
  t.pass(`cached again ${recachedMs} ms after Redis was back (${Date.now() - upAt} ms)`);
  await publisher.stop();
  const counts = await assertEveryFinalOnce(t, bed, { en: [en], es: [es] });
  const after = await lookups();
  t.ok(after.miss > duringOutage.miss, `lookups counted again after the outage (misses ${duringOutage.miss} -> ${after.miss}, hits ${after.hit})`);
  t.comment(`finals ${JSON.stringify(counts)}; cache keys before the outage ${keysBefore}`);
});
