import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { natsConnectOptions } from '../core/src/natsConnectOptions.js';
import type { CaptionEvent } from '../core/src/captions/CaptionEvent.js';
import { DemandBoard } from '../core/src/captions/DemandBoard.js';
import { FinalCaptionFeed } from '../core/src/captions/FinalCaptionFeed.js';
import type { InfraEnv } from '../core/src/infra/LocalInfra.js';
import { moduleLog } from '../core/src/log.js';
import { speak, speechWavFile, wordRecall } from '../test/support/festivalSpeech.js';
import { nodeArgsFor } from '../core/src/process/nodeArgs.js';
import { createLiveSession, startPlatform } from '../test/support/platform.js';
import { percentile, type BenchResult } from './result.js';

/** A recording used nowhere else: the acceptance asks for other speech than the tests'. */
const SENTENCES = [
  'Good morning and welcome to our annual meeting.',
  'The new school opens in the spring.',
  'We will talk about the city and the river.',
  'Please turn off your phone during the talk.',
  'The first speaker is a doctor from the hospital.',
  'Thank you all for coming today.',
];
const LANGS = ['en', 'es', 'ca', 'gl'];

/**
 * End-to-end caption latency on the whole platform as `polyglot up` runs it: a recording is
 * published into a live session with `polyglot publish` (ffmpeg, Opus RTP, the SFU), recognized by
 * the local speech worker, translated by the local translation worker and read back from NATS in
 * four languages. Reports speech end -> caption received per language, the split between the
 * pipeline (speech end -> published) and the fan-out (published -> received), and recall of the
 * reference words. The baseline is the source-language caption of the same run: the translated
 * languages' ratio to it is what translation adds.
 */
export async function captionLatencyBench(infra: InfraEnv): Promise<BenchResult> {
  const teardown: (() => unknown)[] = [];
  const t = { teardown: (fn: () => unknown) => void teardown.push(fn) };
  const platform = await startPlatform(infra);
  const nc = await connect(natsConnectOptions(infra.PC_NATS_URL));
  try {
    const speech = await speak(t, SENTENCES, { gapMs: 1_200 });
    const wav = await speechWavFile(t, speech);
    const { session } = await createLiveSession(platform.baseUrl, randomUUID());
    const board = await DemandBoard.open(nc, 'bench', moduleLog('bench'));
    const received = new Map<string, { event: CaptionEvent; at: number }[]>(LANGS.map((l) => [l, []]));
    const feeds = await Promise.all(LANGS.map((lang) => FinalCaptionFeed.open(nc, session, lang)));
    const pumps = feeds.map(async (feed, i) => {
      for await (const event of feed) received.get(LANGS[i]!)!.push({ event, at: Date.now() });
    });
    for (const lang of LANGS) board.add(session, lang);
    await nc.flush();

    const publisher = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', wav], {
      env: platform.env,
      stdio: 'ignore',
    });
    const [code] = (await once(publisher, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`polyglot publish exited with ${code}`);
    // The last final follows the end of the audio by the speech worker's end-of-utterance wait.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && LANGS.some((l) => (received.get(l)?.length ?? 0) < SENTENCES.length)) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(feeds.map((feed) => feed.close()));
    await Promise.all(pumps);
    await board.close();

    const figures: Record<string, number | string> = { sentences: SENTENCES.length };
    const transcript = received.get('en')!.map((r) => r.event.text).join(' ');
    figures.enWordRecall = Number(wordRecall(SENTENCES.join(' ').replace(/[.,]/g, ''), transcript).toFixed(2));
    const p50 = new Map<string, number>();
    for (const lang of LANGS) {
      const rows = received.get(lang)!;
      const total = rows.map((r) => r.at - r.event.audioEndAt);
      const pipeline = rows.map((r) => r.event.publishedAt - r.event.audioEndAt);
      const fanout = rows.map((r) => r.at - r.event.publishedAt);
      p50.set(lang, percentile(total, 50));
      figures[`${lang}Finals`] = rows.length;
      figures[`${lang}SpeechEndToReceivedP50Ms`] = percentile(total, 50);
      figures[`${lang}SpeechEndToReceivedP95Ms`] = percentile(total, 95);
      figures[`${lang}PipelineP50Ms`] = percentile(pipeline, 50);
      figures[`${lang}FanoutP50Ms`] = percentile(fanout, 50);
    }
    for (const lang of LANGS.slice(1)) figures[`${lang}VsSourceP50Ratio`] = Number(((p50.get(lang) ?? NaN) / (p50.get('en') ?? NaN)).toFixed(2));
    figures.sampleSpanish = received.get('es')![0]?.event.text ?? '';
    return { name: 'caption latency (speech end -> caption received)', figures, notes: 'local engines (PocketSphinx, Apertium) on this machine' };
  } finally {
    await nc.close();
    await platform.stop();
    for (const fn of teardown.reverse()) await fn();
  }
}
