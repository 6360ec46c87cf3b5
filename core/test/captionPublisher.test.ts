import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import t from 'tap';
import { CaptionDecodeError, decodeCaption, type CaptionEvent } from '../src/captions/CaptionEvent.js';
import { CaptionPublisher, type UnsequencedCaption } from '../src/captions/CaptionPublisher.js';
import { CAPTION_STREAM, ensureCaptionStream } from '../src/captions/captionStream.js';
import { lastStoredFinal } from '../src/captions/lastStoredFinal.js';
import { NatsServer } from '../src/infra/NatsServer.js';
import { freePort } from '../src/infra/ports.js';
import { moduleLog } from '../src/log.js';
import { finalCaptionSubject, interimCaptionSubject } from '../src/subjects.js';
import { useInfra } from './support/infra.js';

const log = moduleLog('test');

async function captionBus(t: { teardown(fn: () => unknown): void }) {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  return { nc, jsm, session: `s-${randomUUID()}` };
}

const caption = (session: string, lang: string, text: string, final: boolean): UnsequencedCaption => ({
  org: 'org-test',
  session,
  segment: `seg-${text}`,
  lang,
  srcLang: 'en',
  text,
  srcText: text,
  final,
  speaker: null,
  speakerName: null,
  startMs: 0,
  endMs: 900,
  audioEndAt: Date.now(),
  engine: 'test',
});

t.test('finals are numbered from 1 per language; interims carry the seq of the final to come', async (t) => {
  const { nc, jsm, session } = await captionBus(t);
  const publisher = new CaptionPublisher({ nc, jsm, session, log });
  const interims: CaptionEvent[] = [];
  let gotInterim!: () => void;
  const interimArrived = new Promise<void>((resolve) => (gotInterim = resolve));
  nc.subscribe(interimCaptionSubject(session, 'es'), {
    callback: (_err, msg) => {
      interims.push(decodeCaption(msg.data));
      gotInterim();
    },
  });
  await nc.flush();

  t.equal(await publisher.pendingSeq('es'), 1, 'nothing stored yet: the first final will be 1');
  t.equal(await publisher.publishFinal('es', caption(session, 'es', 'uno', true)), 1);
  t.equal(await publisher.publishFinal('es', caption(session, 'es', 'dos', true)), 2);
  t.equal(await publisher.publishFinal('fr', caption(session, 'fr', 'un', true)), 1, 'each language counts on its own');
  await publisher.publishInterim('es', caption(session, 'es', 'tr', false));
  await interimArrived;
  t.match(interims, [{ seq: 3, final: false, text: 'tr', lang: 'es', v: 1 }]);

  const stored = await lastStoredFinal(jsm, session, 'es');
  t.match(stored?.caption, { seq: 2, text: 'dos', final: true }, 'the stream holds the last final');
});

t.test('a publisher that restarts continues after the last stored final', async (t) => {
  const { nc, jsm, session } = await captionBus(t);
  const first = new CaptionPublisher({ nc, jsm, session, log });
  for (const text of ['a', 'b', 'c']) await first.publishFinal('de', caption(session, 'de', text, true));
  const restarted = new CaptionPublisher({ nc, jsm, session, log });
  t.equal(await restarted.pendingSeq('de'), 4);
  t.equal(await restarted.publishFinal('de', caption(session, 'de', 'd', true)), 4, 'no gap, no repeat');
});

t.test('lastStoredFinal: none, the last one with its stream sequence, or a decode error', async (t) => {
  const { nc, jsm, session } = await captionBus(t);
  t.equal(await lastStoredFinal(jsm, session, 'it'), undefined, 'nothing stored');

  const publisher = new CaptionPublisher({ nc, jsm, session, log });
  await publisher.publishFinal('it', caption(session, 'it', 'uno', true));
  await publisher.publishFinal('it', caption(session, 'it', 'due', true));
  const last = await lastStoredFinal(jsm, session, 'it');
  t.equal(last?.caption.seq, 2);
  const raw = await jsm.streams.getMessage(CAPTION_STREAM, { last_by_subj: finalCaptionSubject(session, 'it') });
  t.equal(last?.streamSeq, raw.seq, 'the stream sequence, for seeking');

  await nc.jetstream().publish(finalCaptionSubject(session, 'it'), new TextEncoder().encode('{"not":"a caption"}'));
  await t.rejects(lastStoredFinal(jsm, session, 'it'), CaptionDecodeError);
});

t.test('a final published while nats-server restarts is stored once, in order, when it is back', async (t) => {
  // A private server: this test stops it.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-nats-restart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await NatsServer.start({ dir, port: await freePort(), log });
  t.teardown(() => server.stop());
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.teardown(() => nc.close());
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  const session = `s-${randomUUID()}`;
  const publisher = new CaptionPublisher({ nc, jsm, session, log });
  t.equal(await publisher.publishFinal('es', caption(session, 'es', 'uno', true)), 1);

  await server.down();
  const during = publisher.publishFinal('es', caption(session, 'es', 'dos', true));
  const after = publisher.publishFinal('es', caption(session, 'es', 'tres', true));
  await server.up();
  t.equal(await during, 2, 'the final published during the outage is stored once the server is back');
  t.equal(await after, 3, 'and the one behind it after it');

  const texts: string[] = [];
  for (let seq = 1; seq <= 3; seq++) {
    const stored = await jsm.streams.getMessage(CAPTION_STREAM, { seq });
    texts.push(decodeCaption(stored.data).text);
  }
  const info = await jsm.streams.info(CAPTION_STREAM);
  t.same({ texts, messages: info.state.messages }, { texts: ['uno', 'dos', 'tres'], messages: 3 }, 'the stream kept the first final across the restart and holds each once');
});
