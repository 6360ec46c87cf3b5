/** The live side of a caption channel on a real NATS: LiveCaptionFeed, and the RecentFinals it keeps. */
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import tap from 'tap';
import { onceEvent, SafeEmitter } from '../../core/src/events.js';
import { useInfra } from '../../core/test/support/infra.js';
import type { CaptionObserverEvents } from '../src/CaptionChannel.js';
import type { CaptionFrame } from '../src/captionFrame.js';
import { LiveCaptionFeed } from '../src/LiveCaptionFeed.js';
import { RecentFinals } from '../src/RecentFinals.js';
import { ScriptedCaptions } from './fixtures/captions.js';
import type { Teardown } from './fixtures/signaling.js';

const frame = (seq: number): CaptionFrame => ({ data: Buffer.from(String(seq)), seq, segment: `seg-${seq}`, final: true, publishedAt: 0, live: true });

tap.test('RecentFinals keeps the latest consecutive finals, up to its bound', async (t) => {
  const recent = new RecentFinals(3);
  t.equal(recent.get(0), undefined, 'empty');
  for (const seq of [1, 2, 3, 4]) recent.remember(frame(seq));
  t.same([1, 2, 3, 4, 5].map((seq) => recent.get(seq)?.seq), [undefined, 2, 3, 4, undefined], 'the oldest beyond the bound is dropped');
  recent.remember(frame(7));
  t.same([4, 6, 7].map((seq) => recent.get(seq)?.seq), [undefined, undefined, 7], 'a gap starts the run over: never a hole');
  recent.clear();
  t.equal(recent.get(7), undefined);
  const none = new RecentFinals(0);
  none.remember(frame(1));
  t.equal(none.get(1), undefined, 'a bound of 0 keeps nothing');
  t.throws(() => new RecentFinals(-1), TypeError);
});

async function natsConnection(t: Teardown): Promise<NatsConnection> {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  return nc;
}

/** A feed of (session, lang), resolved once its shared finals feed is open. */
async function openFeed(t: Teardown, nc: NatsConnection, session: string, lang: string, wantsInterims: () => boolean = () => true): Promise<LiveCaptionFeed> {
  const observer = new SafeEmitter<CaptionObserverEvents>();
  const open = onceEvent(observer, 'liveFeed');
  const feed = new LiveCaptionFeed({ nc, session, lang, observer, wantsInterims });
  t.teardown(async () => {
    feed.close();
    await feed.settled();
  });
  await open;
  return feed;
}

tap.test('the feed starts after the last stored final and delivers each later one once, encoded once', async (t) => {
  const nc = await natsConnection(t);
  const session = randomUUID();
  const pub = await ScriptedCaptions.open(nc, session);
  await pub.finals('es', 1, 4);
  const observer = new SafeEmitter<CaptionObserverEvents>();
  const encoded: string[] = [];
  observer.on('encoded', (final, source) => encoded.push(`${final ? 'final' : 'interim'}:${source}`));
  const feed = new LiveCaptionFeed({ nc, session, lang: 'es', observer, wantsInterims: () => true });
  t.teardown(async () => {
    feed.close();
    await feed.settled();
  });
  const liveFrom = onceEvent(feed, '@liveFrom');
  t.equal((await liveFrom)[0], 4, 'learned from the last stored final, before any new one');
  t.equal(feed.liveFromSeq, 4);

  const finals: number[] = [];
  feed.on('@final', (f) => finals.push(f.seq));
  const fifth = onceEvent(feed, '@final');
  await pub.final('es', 5);
  t.same((await fifth)[0].seq, 5);
  const seventh = new Promise<void>((resolve) => feed.on('@final', (f) => f.seq === 7 && resolve()));
  await pub.finals('es', 6, 7);
  await seventh;
  t.same(finals, [5, 6, 7], 'only the finals after the start, in order');
  t.equal(feed.liveFromSeq, 7);
  t.same([5, 6, 7].map((seq) => feed.recent.get(seq)?.seq), [5, 6, 7], 'kept for resumes');
  t.same(encoded, ['final:live', 'final:live', 'final:live']);
});

tap.test('interims: only while someone reads live, and never one older than the last final', async (t) => {
  const nc = await natsConnection(t);
  const session = randomUUID();
  const pub = await ScriptedCaptions.open(nc, session);
  let live = false;
  const feed = await openFeed(t, nc, session, 'fr', () => live);
  const interims: number[] = [];
  feed.on('@interim', (f) => interims.push(f.seq));

  await pub.interim('fr', 1);
  live = true;
  const second = onceEvent(feed, '@interim');
  await pub.interim('fr', 1);
  t.same((await second)[0].seq, 1);
  const final = onceEvent(feed, '@final');
  await pub.final('fr', 1);
  await final;
  await pub.staleInterim('fr', 1); // its final is out
  const third = onceEvent(feed, '@interim');
  await pub.interim('fr', 2);
  await third;
  t.same(interims, [1, 2], 'none while nobody read live, none stale');
});

tap.test('after close, nothing more is delivered and settled() resolves', async (t) => {
  const nc = await natsConnection(t);
  const session = randomUUID();
  const pub = await ScriptedCaptions.open(nc, session);
  const feed = await openFeed(t, nc, session, 'de');
  let delivered = 0;
  feed.on('@final', () => (delivered += 1));
  feed.on('@interim', () => (delivered += 1));
  feed.close();
  await feed.settled();
  await pub.final('de', 1);
  await pub.interim('de', 2);
  t.equal(delivered, 0);
  t.equal(feed.recent.get(1), undefined);
});
