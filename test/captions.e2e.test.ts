// Captions end to end on the whole platform, as `polyglot up` runs it: speech published into a live
// session with `polyglot publish` comes back as captions in the languages someone reads, and in
// no other; finals are numbered, resumable and stored in Postgres.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'nats';
import pg from 'pg';
import t from 'tap';
import type { CaptionEvent } from '../core/src/captions/CaptionEvent.js';
import { DemandBoard } from '../core/src/captions/DemandBoard.js';
import { FinalCaptionFeed } from '../core/src/captions/FinalCaptionFeed.js';
import { moduleLog } from '../core/src/log.js';
import { loadContract } from '../proto/src/index.js';
import { WorkerRegistry } from '../sidecars/client/src/index.js';
import { SENTENCES, speak, speechWavFile, wordRecall } from './support/festivalSpeech.js';
import { useInfra } from '../core/test/support/infra.js';
import { nodeArgsFor } from '../core/src/process/nodeArgs.js';
import { createLiveSession, startPlatform } from './support/platform.js';

const log = moduleLog('e2e');

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(100);
  }
}

/** The words of `reference` of four letters or more: what a rough recognition still gets right. */
function contentWords(text: string): string[] {
  return text.toLowerCase().replace(/[.,;:!?¿¡]/g, '').split(/\s+/).filter((w) => w.length >= 4);
}

t.test('published speech becomes captions in the wanted languages only, numbered, resumable and stored', async (t) => {
  const infra = await useInfra();
  const platform = await startPlatform(infra);
  t.teardown(() => platform.stop());
  const nc = await connect({ servers: infra.PC_NATS_URL });
  t.teardown(() => nc.close());
  const registry = await WorkerRegistry.start({ nats: nc, log });
  t.teardown(() => registry.close());

  const { session } = await createLiveSession(platform.baseUrl, randomUUID());
  const received: Record<string, CaptionEvent[]> = { en: [], es: [] };
  for (const lang of ['en', 'es']) {
    const feed = await FinalCaptionFeed.open(nc, session, lang);
    t.teardown(() => feed.close());
    void (async () => {
      for await (const event of feed) received[lang]!.push(event);
    })();
  }
  // One viewer reads Spanish; nobody reads Catalan or Galician, which the worker also offers.
  const board = await DemandBoard.open(nc, 'e2e-node', log);
  t.teardown(() => board.close());
  board.add(session, 'es');
  await nc.flush();

  const speech = await speak(t, SENTENCES, { gapMs: 1_200 });
  const publisher = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', await speechWavFile(t, speech)], {
    env: platform.env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const [code] = (await once(publisher, 'exit')) as [number | null];
  t.equal(code, 0, 'polyglot publish played the recording into the session');
  await until('a final per sentence in English and Spanish', () => received.en!.length >= SENTENCES.length && received.es!.length >= SENTENCES.length, 20_000);

  const transcript = received.en!.map((e) => e.text).join(' ');
  const recall = wordRecall(SENTENCES.join(' '), transcript);
  t.ok(recall >= 0.75, `the English transcript holds ${(recall * 100).toFixed(0)}% of the spoken words`);

  // The reference: the translation worker's own Spanish for what was really said.
  const mt = registry.pickTranslator({ source: 'en', target: 'es' }, 'apertium');
  if (!mt) throw new Error('no apertium worker in the registry');
  const contract = loadContract();
  const client = new contract.Translator.Client(mt.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const reference = await new Promise<string>((resolve, reject) =>
    client.translate({ texts: [...SENTENCES], sourceLanguage: 'en', targetLanguages: ['es'], orgId: 'e2e-reference' }, (err, res) =>
      err || !res ? reject(err ?? new Error('no response')) : resolve(res.results.map((r) => r.text).join(' ')),
    ),
  );
  const spanish = new Set(contentWords(received.es!.map((e) => e.text).join(' ')));
  const expected = contentWords(reference);
  const found = expected.filter((w) => spanish.has(w)).length;
  t.ok(found / expected.length >= 0.6, `Spanish captions carry ${found} of ${expected.length} content words of the reference translation`);
  t.ok(received.es!.every((e) => e.srcLang === 'en' && e.lang === 'es' && e.audioEndAt <= e.publishedAt), 'each final knows its source and when its speech ended');

  t.same(received.es!.map((e) => e.seq), received.es!.map((_, i) => i + 1), 'Spanish finals numbered 1, 2, 3... with no gap');
  const resumed: number[] = [];
  const feed = await FinalCaptionFeed.open(nc, session, 'es', { afterSeq: 2 });
  for await (const event of feed) {
    resumed.push(event.seq);
    if (resumed.length === received.es!.length - 2) break;
  }
  feed.close();
  t.same(resumed, received.es!.slice(2).map((e) => e.seq), 'a viewer resuming after seq 2 gets exactly the finals it missed');

  const workerInfo = registry.workers().find((w) => w.engine === 'apertium');
  if (!workerInfo?.metricsUrl) throw new Error('the translation worker announced no metrics address');
  const metrics = await (await fetch(new URL('/metrics', workerInfo.metricsUrl))).text();
  const perTarget = (lang: string) => Number(new RegExp(`pc_mt_texts_total\\{[^}]*target="${lang}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  t.ok(perTarget('es') > 0, `the worker translated into Spanish (${perTarget('es')} texts)`);
  // Read from the same scrape that shows Spanish, so a zero here is a real zero.
  t.equal(perTarget('ca') + perTarget('gl'), 0, 'a language nobody watches is never sent to the translation worker');

  const db = new pg.Client({ connectionString: infra.PC_DATABASE_URL });
  await db.connect();
  t.teardown(() => db.end());
  await until('the history writer stored every final', async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM translation_history WHERE session_id = $1', [session]);
    return Number(rows[0]?.n) >= received.en!.length + received.es!.length;
  }, 15_000);
  t.pass('finals of both languages are in translation_history');
});
