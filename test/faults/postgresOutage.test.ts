// Fault 8a: PostgreSQL stopped for 60 s mid-session, then started. Captions keep reaching viewers
// (nothing on the caption path queries the database); the history writer retries and catches up
// from the JetStream stream; every final ends up in translation_history exactly once.
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { assertEveryFinalOnce, startFaultBed, storedFinals, until } from './support/faultBed.js';

const OUTAGE_MS = 60_000;

t.test('a 60 s PostgreSQL outage loses and duplicates nothing', { timeout: 300_000 }, async (t) => {
  const bed = await startFaultBed(t);
  const en = await bed.viewer('en');
  const es = await bed.viewer('es');
  const publisher = await bed.publish();
  await es.until('two Spanish finals before the outage', () => es.lastSeq >= 2, 60_000);

  await bed.infra.postgres.down();
  const downAt = Date.now();
  const before = { en: en.lastSeq, es: es.lastSeq };
  await es.until('two more Spanish finals during the outage', () => es.lastSeq >= before.es + 2, OUTAGE_MS - 5_000);
  // The outage lasts its full length whatever the captions did: a measured duration, not a wait.
  await delay(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
  const during = { en: en.lastSeq - before.en, es: es.lastSeq - before.es };
  const outageMs = Date.now() - downAt;
  t.ok(during.es >= 2 && during.en >= 2, `captions kept flowing during the ${outageMs} ms outage: ${during.en} English and ${during.es} Spanish finals`);

  await bed.infra.postgres.up();
  const upAt = Date.now();
  const target = (await storedFinals(bed.nc, bed.session, 'es')).length + (await storedFinals(bed.nc, bed.session, 'en')).length;
  const catchUpMs = await until(
    `translation_history catches up with the ${target} finals stored during and before the outage`,
    async () => (await bed.historyRows()).reduce((sum, r) => sum + r.n, 0) >= target,
    60_000,
  );
  t.pass(`the history writer caught up ${catchUpMs} ms after PostgreSQL was back (${Date.now() - upAt} ms)`);

  await es.until('one more Spanish final after the outage', () => es.lastSeq >= before.es + during.es + 1, 60_000);
  await publisher.stop();
  const counts = await assertEveryFinalOnce(t, bed, { en: [en], es: [es] });
  t.comment(`finals: ${JSON.stringify(counts)}; viewer sockets: en ${en.connections}, es ${es.connections}`);
});
