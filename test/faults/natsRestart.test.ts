// Fault 8b: nats-server restarted mid-session, after 25 s down, JetStream on disk. Every process reconnects; the
// viewers keep their sockets (or resume) with no gap and no duplicate; the stream keeps its
// finals; the caption publisher continues its seqs after the restart.
import { setTimeout as delay } from 'node:timers/promises';
import t from 'tap';
import { assertEveryFinalOnce, startFaultBed, storedFinals } from './support/faultBed.js';

const OUTAGE_MS = 25_000;

t.test('a NATS restart mid-session loses and duplicates nothing', { timeout: 400_000 }, async (t) => {
  const bed = await startFaultBed(t);
  const en = await bed.viewer('en');
  const es = await bed.viewer('es');
  const publisher = await bed.publish();
  await es.until('two Spanish finals before the restart', () => es.lastSeq >= 2, 60_000);

  const storedBefore = (await storedFinals(bed.nc, bed.session, 'es')).length;
  const before = { en: en.lastSeq, es: es.lastSeq };
  const downAt = Date.now();
  await bed.infra.nats.down();
  // Longer than nats.js's default reconnect budget (10 attempts, 2 s apart): every process must
  // still be reconnecting when the server is back.
  await delay(OUTAGE_MS);
  await bed.infra.nats.up();
  const restartMs = Date.now() - downAt;
  await es.until('a Spanish final after the restart', () => es.lastSeq > Math.max(before.es, storedBefore), 60_000);
  const recoveryMs = Date.now() - downAt;
  t.pass(`nats-server was down ${restartMs} ms; the next Spanish final reached the viewer ${recoveryMs} ms after it went down`);
  await es.until('two more Spanish finals after the restart', () => es.lastSeq >= Math.max(before.es, storedBefore) + 2, 60_000);
  t.ok((await storedFinals(bed.nc, bed.session, 'es')).length >= storedBefore, `the stream kept the ${storedBefore} Spanish finals stored before the restart`);
  await publisher.stop();
  const counts = await assertEveryFinalOnce(t, bed, { en: [en], es: [es] });
  t.comment(`finals ${JSON.stringify(counts)}; viewer sockets: en ${en.connections}, es ${es.connections}`);
});
