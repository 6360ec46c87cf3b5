// What the caption bus's readers do when nats-server restarts (JetStream on disk): the server-side
// consumers they read through were in memory and are gone.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import t from 'tap';
import { CaptionPublisher, type UnsequencedCaption } from '../src/captions/CaptionPublisher.js';
import { ensureCaptionStream } from '../src/captions/captionStream.js';
import { openDemandBucket } from '../src/captions/demandBucket.js';
import { DemandWatcher } from '../src/captions/DemandWatcher.js';
import { FinalCaptionFeed } from '../src/captions/FinalCaptionFeed.js';
import { NatsServer } from '../src/infra/NatsServer.js';
import { freePort } from '../src/infra/ports.js';
import { moduleLog } from '../src/log.js';

const log = moduleLog('test');

async function restartableNats(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pc-nats-restart-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const server = await NatsServer.start({ dir, port: await freePort(), log });
  t.teardown(() => server.stop());
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  t.teardown(() => nc.close());
  return { server, nc };
}

/** Rejects after `ms`: a guard against a hung test, not a wait. */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)));
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

t.test('a final caption feed ends with an error when its consumer is lost in a restart, so its reader can resume', async (t) => {
  const { server, nc } = await restartableNats(t);
  const jsm = await nc.jetstreamManager();
  await ensureCaptionStream(jsm);
  const session = `s-${randomUUID()}`;
  const publisher = new CaptionPublisher({ nc, jsm, session, log });
  const feed = await FinalCaptionFeed.open(nc, session, 'es', { afterSeq: -1 });
  t.teardown(() => feed.close());
  const caption: UnsequencedCaption = {
    org: 'o', session, segment: 'seg', lang: 'es', srcLang: 'en', text: 'uno', srcText: 'one', final: true,
    speaker: null, speakerName: null, startMs: 0, endMs: 1, audioEndAt: Date.now(), engine: 'test',
  };
  await publisher.publishFinal('es', caption);
  const seen: number[] = [];
  let gotFirst!: () => void;
  const first = new Promise<void>((resolve) => (gotFirst = resolve));
  const ended = (async () => {
    for await (const event of feed) {
      seen.push(event.seq);
      gotFirst();
    }
  })();
  ended.catch(() => undefined); // awaited below, after the restart
  await within(10_000, first, 'the first final');
  await server.down();
  await server.up();
  await t.rejects(within(30_000, ended, 'the feed to end'), /consumer not found/, 'the iteration ends instead of waiting for ever');
  t.same(seen, [1]);
  await publisher.publishFinal('es', { ...caption, text: 'dos' });
  const resumed = await FinalCaptionFeed.open(nc, session, 'es', { afterSeq: 1 });
  t.teardown(() => resumed.close());
  for await (const event of resumed) {
    t.equal(event.seq, 2, 'a feed reopened after the last seq gets the final stored after the restart');
    break;
  }
});

t.test('a demand watcher keeps seeing every node\'s entry across a restart', async (t) => {
  const { server, nc } = await restartableNats(t);
  const session = `s-${randomUUID()}`;
  const kv = await openDemandBucket(nc);
  const watcher = await DemandWatcher.open(nc, session, log);
  t.teardown(() => watcher.close());
  const changed = once(watcher, 'change');
  await kv.put(`${session}.node-1`, JSON.stringify({ langs: ['es'] }));
  await within(10_000, changed, 'es wanted');
  t.same([...watcher.langs], ['es']);

  await server.down();
  await server.up();
  const next = once(watcher, 'change');
  // As a signaling node does: its refresh is retried until the server is back.
  await within(15_000, (async () => {
    for (;;) {
      try {
        return await kv.put(`${session}.node-1`, JSON.stringify({ langs: ['fr'] }));
      } catch (err) {
        if (!(err instanceof Error) || !/TIMEOUT|503|no responders/i.test(err.message)) throw err;
      }
    }
  })(), 'the write after the restart');
  await within(15_000, next, 'fr wanted after the restart');
  t.same([...watcher.langs], ['fr'], 'an entry written after the restart reaches the watcher');
  await within(10_000, watcher.close(), 'close');
});
