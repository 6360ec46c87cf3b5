import { randomUUID } from 'node:crypto';
import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { decodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { ensureCaptionStream } from '../../core/src/captions/captionStream.js';
import { DemandBoard } from '../../core/src/captions/DemandBoard.js';
import { DemandWatcher } from '../../core/src/captions/DemandWatcher.js';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import { interimCaptionSubject, languageStatusSubject } from '../../core/src/subjects.js';
import { decodeLanguageStatus, type LanguageStatus } from '../../core/src/captions/LanguageStatus.js';
import { onceEvent } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { AudioTap } from '../src/captions/AudioTap.js';
import { CaptionPipeline, type CaptionTranslator, type SpeechSource } from '../src/captions/CaptionPipeline.js';
import { CaptionPublisher } from '../../core/src/captions/CaptionPublisher.js';
import { SessionMedia } from '../src/SessionMedia.js';
import { connectNats, feedOpus, LISTEN, startPool, uniqueId } from './_harness.js';

type Result = { segmentId: string; isFinal: boolean; text: string; startMs: number; endMs: number; engine: string };

/** A speech source the test scripts: it records the audio it is fed and yields what the test says. */
class ScriptedSpeech implements SpeechSource {
  bytes = 0;
  #waiting: ((r: IteratorResult<Result>) => void) | undefined;
  #queue: Result[] = [];
  #ended = false;
  #bytesWaiters: { n: number; resolve: () => void }[] = [];
  pushAudio(pcm: Buffer): void {
    this.bytes += pcm.length;
    this.#bytesWaiters = this.#bytesWaiters.filter((w) => (this.bytes >= w.n ? (w.resolve(), false) : true));
  }
  received(n: number): Promise<void> {
    return this.bytes >= n ? Promise.resolve() : new Promise((resolve) => this.#bytesWaiters.push({ n, resolve }));
  }
  say(r: Omit<Result, 'engine'>): void {
    const result = { ...r, engine: 'scripted' };
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ value: result, done: false });
    } else this.#queue.push(result);
  }
  #failover: ((info: { abandonedSegments: string[] }) => void)[] = [];
  on(_event: 'failover', listener: (info: { abandonedSegments: string[] }) => void): void {
    this.#failover.push(listener);
  }
  failover(abandonedSegments: string[]): void {
    for (const listener of this.#failover) listener({ abandonedSegments });
  }
  endInput(): void {}
  close(): void {
    this.#ended = true;
    this.#waiting?.({ value: undefined, done: true });
  }
  [Symbol.asyncIterator](): AsyncIterator<Result> {
    return {
      next: () => {
        const queued = this.#queue.shift();
        if (queued) return Promise.resolve({ value: queued, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#waiting = resolve));
      },
    };
  }
}

t.test('captions flow in the source language, and translations only into wanted languages', async (t) => {
  const nc = await connectNats(t);
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  const log = moduleLog('test');
  const session = randomUUID();

  const pool = await startPool(t, 1);
  const media = await SessionMedia.create({ session: uniqueId('cap'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  t.teardown(() => media.close());
  const pub = await media.createPlainPublisher('host');
  feedOpus(t, { ...pub, wav: await makeSpeechWav(t, 'Hello everyone, welcome to the keynote.', { sampleRate: 48_000 }) });
  const tap = await AudioTap.create({ media, producerId: pub.producerId, log });

  const demand = await DemandWatcher.open(nc, session, log);
  t.teardown(() => demand.close());
  const board = await DemandBoard.open(nc, 'node-1', log);
  t.teardown(() => board.close());
  const speech = new ScriptedSpeech();
  const calls: string[][] = [];
  const translator: CaptionTranslator = {
    translate: async ({ texts, targets }) => {
      calls.push([...targets].sort());
      return { translations: targets.map((target) => ({ target, text: `${target}:${texts[0]}`, engine: 'fake-mt' })) };
    },
  };
  let clock = 1_000_000;
  const registry = new Registry();
  const pipeline = new CaptionPipeline({
    session: { id: session, orgId: 'org-1', sourceLanguage: 'en' },
    speakerName: 'Ada',
    tap,
    speech,
    translator,
    demand,
    publisher: new CaptionPublisher({ nc, jsm, session, log }),
    metrics: {
      sttFinalSeconds: new Histogram({ name: 'stt', help: 'x', registers: [registry] }),
      translationSeconds: new Histogram({ name: 'tr', help: 'x', labelNames: ['kind'], registers: [registry] }),
      untranslatedFinals: new Counter({ name: 'untranslated', help: 'x', labelNames: ['language', 'reason'], registers: [registry] }),
    },
    log,
    now: () => clock,
  });
  t.teardown(() => pipeline.close());

  // Every caption on the wire, by language, as a viewer's subscriptions would see them.
  const interims = new Map<string, CaptionEvent[]>();
  const interimArrived: { lang: string; resolve: (e: CaptionEvent) => void }[] = [];
  for (const lang of ['en', 'es', 'ca']) {
    nc.subscribe(interimCaptionSubject(session, lang), {
      callback: (_err, msg) => {
        const event = decodeCaption(msg.data);
        interims.set(lang, [...(interims.get(lang) ?? []), event]);
        const i = interimArrived.findIndex((w) => w.lang === lang);
        if (i >= 0) interimArrived.splice(i, 1)[0]!.resolve(event);
      },
    });
  }
  await nc.flush();
  const nextInterim = (lang: string) => new Promise<CaptionEvent>((resolve) => interimArrived.push({ lang, resolve }));
  const finals = async (lang: string, n: number) => {
    const feed = await FinalCaptionFeed.open(nc, session, lang, { afterSeq: 0 });
    const out: CaptionEvent[] = [];
    for await (const event of feed) {
      out.push(event);
      if (out.length === n) break;
    }
    await feed.close();
    return out;
  };

  await speech.received(3_200 * 10);
  t.pass('the tap feeds decoded audio into the speech stream');

  let en = nextInterim('en');
  speech.say({ segmentId: 's1', isFinal: false, text: 'hello', startMs: 0, endMs: 400 });
  t.equal((await en).text, 'hello', 'interim transcript in the source language');
  speech.say({ segmentId: 's1', isFinal: true, text: 'hello everyone', startMs: 0, endMs: 900 });
  const [first] = await finals('en', 1);
  t.match(first, { seq: 1, text: 'hello everyone', srcText: 'hello everyone', final: true, speakerName: 'Ada', lang: 'en', srcLang: 'en' });
  t.ok(first!.audioEndAt > 0, 'the final knows when its speech ended');
  t.same(calls, [], 'a language nobody watches costs nothing: no translation call');

  let changed = onceEvent(demand, 'change');
  board.add(session, 'es');
  await changed;
  const es = nextInterim('es');
  speech.say({ segmentId: 's2', isFinal: false, text: 'welcome', startMs: 1000, endMs: 1400 });
  t.equal((await es).text, 'es:welcome', 'a wanted language gets translated interims');
  en = nextInterim('en');
  clock += 100; // within 300 ms of the last interim translation of this segment
  speech.say({ segmentId: 's2', isFinal: false, text: 'welcome to', startMs: 1000, endMs: 1600 });
  await en;
  t.same(calls, [['es']], 'interims of a segment are translated at most every 300 ms');

  changed = onceEvent(demand, 'change');
  const ca = nextInterim('ca');
  board.add(session, 'ca');
  await changed;
  t.equal((await ca).text, 'ca:welcome to', 'a language that becomes wanted gets the current segment at once');

  clock += 1_000;
  speech.say({ segmentId: 's2', isFinal: true, text: 'welcome to the keynote', startMs: 1000, endMs: 2200 });
  const [esFinal] = await finals('es', 1);
  const [caFinal] = await finals('ca', 1);
  t.match(esFinal, { seq: 1, text: 'es:welcome to the keynote', srcText: 'welcome to the keynote', srcLang: 'en', engine: 'fake-mt' });
  t.match(caFinal, { seq: 1, text: 'ca:welcome to the keynote' });
  t.same(calls.at(-1), ['ca', 'es'], 'one call translates a final into every wanted language');
  t.same((await finals('en', 2)).map((e) => e.seq), [1, 2], 'source finals numbered per language');

  en = nextInterim('en');
  speech.say({ segmentId: 's3', isFinal: false, text: 'the first', startMs: 3000, endMs: 3400 });
  await en;
  const retracted = nextInterim('en');
  speech.failover(['s3']);
  t.match(await retracted, { segment: `${pub.producerId}-s3`, text: '', final: false }, 'a segment abandoned by a failover is retracted');

  const resumed = new CaptionPublisher({ nc, jsm, session, log });
  t.equal(await resumed.pendingSeq('es'), 2, 'a restarted publisher continues the seq from the stream');
});

t.test('a language nobody can translate: its viewers are told why, it is counted, and told again when it comes back', async (t) => {
  const nc = await connectNats(t);
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  const log = moduleLog('test');
  const session = randomUUID();
  const pool = await startPool(t, 1);
  const media = await SessionMedia.create({ session: uniqueId('cap'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  t.teardown(() => media.close());
  const pub = await media.createPlainPublisher('host');
  const tap = await AudioTap.create({ media, producerId: pub.producerId, log });
  const demand = await DemandWatcher.open(nc, session, log);
  t.teardown(() => demand.close());
  const board = await DemandBoard.open(nc, 'node-1', log);
  t.teardown(() => board.close());
  const speech = new ScriptedSpeech();

  // Catalan has no engine; Spanish translates. A call never fails for Spanish because of Catalan.
  const noEngine = new Set(['ca']);
  const calls: string[][] = [];
  const translator: CaptionTranslator = {
    translate: async ({ texts, targets }) => {
      calls.push([...targets]);
      return {
        translations: targets.filter((x) => !noEngine.has(x)).map((target) => ({ target, text: `${target}:${texts[0]}`, engine: 'fake-mt' })),
        failures: targets.filter((x) => noEngine.has(x)).map((target) => ({ target, reason: 'no_engine' as const })),
      };
    },
  };
  const registry = new Registry();
  const untranslated = new Counter({ name: 'untranslated', help: 'x', labelNames: ['language', 'reason'], registers: [registry] });
  const pipeline = new CaptionPipeline({
    session: { id: session, orgId: 'org-1', sourceLanguage: 'en' },
    speakerName: 'Ada',
    tap,
    speech,
    translator,
    demand,
    publisher: new CaptionPublisher({ nc, jsm, session, log }),
    metrics: {
      sttFinalSeconds: new Histogram({ name: 'stt', help: 'x', registers: [registry] }),
      translationSeconds: new Histogram({ name: 'tr', help: 'x', labelNames: ['kind'], registers: [registry] }),
      untranslatedFinals: untranslated,
    },
    maxLanguages: 2,
    log,
  });
  t.teardown(() => pipeline.close());

  const statuses = new Map<string, LanguageStatus[]>();
  const waiters: { lang: string; resolve: (s: LanguageStatus) => void }[] = [];
  for (const lang of ['es', 'ca', 'gl']) {
    nc.subscribe(languageStatusSubject(session, lang), {
      callback: (_err, msg) => {
        const status = decodeLanguageStatus(msg.data);
        if (!status) return;
        statuses.set(lang, [...(statuses.get(lang) ?? []), status]);
        const i = waiters.findIndex((w) => w.lang === lang);
        if (i >= 0) waiters.splice(i, 1)[0]!.resolve(status);
      },
    });
  }
  await nc.flush();
  const nextStatus = (lang: string) => new Promise<LanguageStatus>((resolve) => waiters.push({ lang, resolve }));
  const finalsOf = async (lang: string, n: number) => {
    const feed = await FinalCaptionFeed.open(nc, session, lang, { afterSeq: 0 });
    const out: CaptionEvent[] = [];
    for await (const event of feed) {
      out.push(event);
      if (out.length === n) break;
    }
    await feed.close();
    return out;
  };
  const count = async (language: string, reason: string) =>
    (await untranslated.get()).values.find((v) => v.labels.language === language && v.labels.reason === reason)?.value ?? 0;

  const wanted = (n: number) => new Promise<void>((resolve) => {
    const check = () => {
      if (demand.langs.size < n) return;
      demand.off('change', check);
      resolve();
    };
    demand.on('change', check);
    check();
  });
  board.add(session, 'es');
  board.add(session, 'ca');
  board.add(session, 'gl'); // a third language: beyond this session's bound of 2
  await wanted(3);

  const caStatus = nextStatus('ca');
  const glStatus = nextStatus('gl');
  speech.say({ segmentId: 's1', isFinal: true, text: 'hello everyone', startMs: 0, endMs: 900 });
  t.match(await caStatus, { lang: 'ca', state: 'untranslatable', reason: 'no_engine' }, 'the Catalan viewers are told there is no engine');
  t.match(await glStatus, { lang: 'gl', state: 'untranslatable', reason: 'language_limit' }, 'a language beyond the bound is told so');
  t.match((await finalsOf('es', 1))[0], { seq: 1, text: 'es:hello everyone' }, 'Spanish is translated all the same');
  t.same(calls, [['es', 'ca']], 'never more targets than the bound');
  t.equal(await count('ca', 'no_engine'), 1, 'counted by language and reason');
  t.equal(await count('gl', 'language_limit'), 1);

  const again = nextStatus('ca');
  speech.say({ segmentId: 's2', isFinal: true, text: 'second', startMs: 1000, endMs: 1900 });
  t.match(await again, { state: 'untranslatable', reason: 'no_engine' }, 'told at every final, so a viewer who arrives later learns it too');
  t.equal(await count('ca', 'no_engine'), 2);

  noEngine.clear(); // a Catalan worker appears
  const back = nextStatus('ca');
  speech.say({ segmentId: 's3', isFinal: true, text: 'third', startMs: 2000, endMs: 2900 });
  t.match(await back, { state: 'translating' }, 'told when it is translated again');
  t.match((await finalsOf('ca', 1))[0], { text: 'ca:third' }, 'and its captions resume');
  t.notOk(statuses.get('es')?.length, 'Spanish viewers were never bothered');
});
