import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, headers, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import t from 'tap';
import { encodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { CAPTION_STREAM, ensureCaptionStream } from '../../core/src/captions/captionStream.js';
import { captionMessageId, finalCaptionSubject } from '../../core/src/subjects.js';
import { moduleLog } from '../../core/src/log.js';
import { useInfra } from '../../core/test/support/infra.js';
import { HistoryWriter } from '../src/history/HistoryWriter.js';
import { migratedDb, seedSession } from './fixtures/testDb.js';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(50);
  }
}

t.test('final captions land in translation_history once, bad ones are dropped without holding the rest back', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const db = await migratedDb(t);
  const seeded = await seedSession(db);
  const nc: NatsConnection = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  await ensureCaptionStream(jsm); // idempotent
  const js = nc.jetstream();
  const durable = `history-test-${randomUUID().slice(0, 8)}`;
  const writer = new HistoryWriter({ js, jsm, db, log: moduleLog('test'), registry: new Registry(), durable, batchSize: 50, fetchExpiresMs: 1_000 });
  t.teardown(() => writer.close());

  const now = Date.now();
  const caption = (seq: number, session = seeded.sessionId): CaptionEvent => ({
    v: 1,
    org: seeded.organizationId,
    session,
    segment: `seg-${seq}`,
    seq,
    lang: 'es',
    srcLang: 'en',
    text: `hola ${seq}`,
    srcText: `hello ${seq}`,
    final: true,
    speaker: seeded.speakerId,
    speakerName: 'Host',
    startMs: seq * 1000,
    endMs: seq * 1000 + 900,
    audioEndAt: now + seq,
    publishedAt: now + seq,
    engine: 'apertium',
  });
  const publish = (event: CaptionEvent, msgID: string) =>
    js.publish(finalCaptionSubject(event.session, event.lang), encodeCaption(event), { msgID });

  for (let seq = 1; seq <= 20; seq++) await publish(caption(seq), captionMessageId(seeded.sessionId, 'es', seq));
  const dup = await publish(caption(7), captionMessageId(seeded.sessionId, 'es', 7));
  t.ok(dup.duplicate, 'JetStream drops a republish inside its duplicate window');
  // A redelivery that gets past the stream (new message id) still adds no row: the unique key.
  await publish(caption(8), 'republished-after-the-window');
  // Poison: not a caption at all, and a caption for a session that does not exist.
  const h = headers();
  await js.publish(finalCaptionSubject(seeded.sessionId, 'es'), new TextEncoder().encode('{"v":1,"oops":true}'), { headers: h, msgID: 'poison-1' });
  await publish(caption(21, randomUUID()), 'poison-2');
  for (let seq = 22; seq <= 25; seq++) await publish(caption(seq), captionMessageId(seeded.sessionId, 'es', seq));

  await writer.start();
  await until('every message is acked or terminated', async () => {
    const info = await jsm.consumers.info(CAPTION_STREAM, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });

  const rows = await db
    .selectFrom('translation_history')
    .select(['seq', 'source_text', 'translated_text', 'speaker_id'])
    .where('session_id', '=', seeded.sessionId)
    .orderBy('seq')
    .execute();
  t.same(
    rows.map((r) => r.seq),
    [...Array.from({ length: 20 }, (_, i) => i + 1), 22, 23, 24, 25],
    'every good caption once, none twice, nothing lost behind the poison',
  );
  t.same(rows[0], { seq: 1, source_text: 'hello 1', translated_text: 'hola 1', speaker_id: seeded.speakerId });
  const hits = await db.selectFrom('translation_history').select('seq').where('search', '@@', (eb) => eb.fn('plainto_tsquery', [eb.val('simple'), eb.val('hola')])).execute();
  t.equal(hits.length, 24, 'history is searchable as soon as it is written');
});
