import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import type { DemandWatcher } from '../../../core/src/captions/DemandWatcher.js';
import type { AudioChunk, AudioTap } from './AudioTap.js';
import type { CaptionPublisher, UnsequencedCaption } from '../../../core/src/captions/CaptionPublisher.js';

/** What the pipeline needs of a speech stream (ResilientSpeechStream in production). */
export interface SpeechSource {
  pushAudio(pcm: Buffer): void;
  endInput(): void;
  close(): void;
  [Symbol.asyncIterator](): AsyncIterator<{ segmentId: string; isFinal: boolean; text: string; startMs: number; endMs: number; engine: string }>;
  /** After a failover: segments that had interims and will get no final (their audio is recognized again). */
  on?(event: 'failover', listener: (info: { abandonedSegments: string[] }) => void): unknown;
}

/** What the pipeline needs of translation (TranslationClient in production). */
export interface CaptionTranslator {
  translate(request: { texts: string[]; source: string; targets: string[]; orgId: string }): Promise<{ translations: { target: string; text: string; engine: string }[] }>;
}

export interface CaptionPipelineMetrics {
  /** Speech end (wall clock) -> final transcript received from the speech worker. */
  sttFinalSeconds: Histogram;
  translationSeconds: Histogram<'kind'>;
}

export interface CaptionPipelineOptions {
  session: { id: string; orgId: string; sourceLanguage: string };
  speakerName: string | null;
  tap: AudioTap;
  speech: SpeechSource;
  translator: CaptionTranslator;
  demand: DemandWatcher;
  publisher: CaptionPublisher;
  metrics: CaptionPipelineMetrics;
  log: Logger;
  /** Interims of one segment are translated at most this often. */
  interimTranslateIntervalMs?: number;
  now?: () => number;
}

interface OpenSegment {
  text: string;
  startMs: number;
  endMs: number;
  lastTranslatedAt: number;
  engine: string;
}

/**
 * One speaker's captions: tap audio -> speech worker -> source-language captions, and
 * translations into exactly the languages viewers want right now (DemandWatcher). Finals are
 * translated in order, one call for every wanted language; interims at most every 300 ms per
 * segment. A language that becomes wanted gets the segment being spoken at once. Nothing in here
 * runs per viewer.
 */
export class CaptionPipeline {
  readonly #opts: CaptionPipelineOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #interimIntervalMs: number;
  /** Wall-clock start of each 100 ms chunk pushed to speech, by chunk index: maps stream offsets to when they were spoken. */
  readonly #chunkWallClock = new Map<number, number>();
  #chunksPushed = 0;
  readonly #open = new Map<string, OpenSegment>();
  #finals: Promise<void> = Promise.resolve();
  readonly #pump: Promise<void>;
  readonly #onChunk = (chunk: AudioChunk) => this.#push(chunk);
  readonly #onDemand = ({ added }: { added: string[] }) => this.#catchUp(added);
  #closed = false;

  constructor(opts: CaptionPipelineOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ sessionId: opts.session.id, producerId: opts.tap.producerId });
    this.#now = opts.now ?? Date.now;
    this.#interimIntervalMs = opts.interimTranslateIntervalMs ?? 300;
    opts.tap.on('chunk', this.#onChunk);
    opts.tap.once('close', () => opts.speech.endInput());
    opts.demand.on('change', this.#onDemand);
    opts.speech.on?.('failover', ({ abandonedSegments }) => this.#retract(abandonedSegments));
    this.#pump = this.#consume().catch((err: unknown) => this.#log.error({ err }, 'speech stream failed; captions stop for this speaker'));
  }

  #push(chunk: AudioChunk): void {
    const index = this.#chunksPushed++;
    this.#chunkWallClock.set(index, chunk.wallClockMs);
    this.#chunkWallClock.delete(index - 1_200); // two minutes back is more than any utterance
    this.#opts.speech.pushAudio(chunk.pcm);
  }

  /** When the audio at `offsetMs` of the speech stream was spoken. */
  #wallClockAt(offsetMs: number): number {
    const index = Math.floor(offsetMs / 100);
    const start = this.#chunkWallClock.get(index) ?? this.#chunkWallClock.get(this.#chunksPushed - 1);
    return start === undefined ? this.#now() : Math.round(start + (offsetMs - index * 100));
  }

  #caption(segment: string, text: string, srcText: string, startMs: number, endMs: number, engine: string): UnsequencedCaption {
    const { session, speakerName } = this.#opts;
    return {
      org: session.orgId,
      session: session.id,
      segment,
      lang: session.sourceLanguage,
      srcLang: session.sourceLanguage,
      text,
      srcText,
      final: false,
      speaker: null,
      speakerName,
      startMs,
      endMs,
      audioEndAt: this.#wallClockAt(endMs),
      engine,
    };
  }

  async #consume(): Promise<void> {
    const src = this.#opts.session.sourceLanguage;
    for await (const result of this.#opts.speech) {
      if (this.#closed) break;
      const segment = `${this.#opts.tap.producerId}-${result.segmentId}`;
      const caption = this.#caption(segment, result.text, result.text, result.startMs, result.endMs, result.engine);
      if (!result.isFinal) {
        if (!result.text) continue;
        void this.#opts.publisher.publishInterim(src, caption);
        const open = this.#open.get(segment) ?? { text: '', startMs: result.startMs, endMs: result.endMs, lastTranslatedAt: 0, engine: result.engine };
        Object.assign(open, { text: result.text, endMs: result.endMs });
        this.#open.set(segment, open);
        if (this.#now() - open.lastTranslatedAt >= this.#interimIntervalMs) {
          open.lastTranslatedAt = this.#now();
          void this.#translateInterim(segment, open, this.#targets());
        }
        continue;
      }
      this.#open.delete(segment);
      if (!result.text.trim()) continue;
      this.#opts.metrics.sttFinalSeconds.observe(Math.max(0, this.#now() - caption.audioEndAt) / 1000);
      void this.#opts.publisher.publishFinal(src, { ...caption, final: true });
      // Finals are translated one after another so each language's seqs follow speech order.
      this.#finals = this.#finals.then(() => this.#translateFinal(caption));
    }
    await this.#finals;
  }

  /** Wanted languages other than the source (whose viewers read the transcript itself). */
  #targets(): string[] {
    const src = this.#opts.session.sourceLanguage;
    return [...this.#opts.demand.langs].filter((lang) => lang !== src);
  }

  async #translateFinal(caption: UnsequencedCaption): Promise<void> {
    const targets = this.#targets();
    if (targets.length === 0) return;
    const end = this.#opts.metrics.translationSeconds.startTimer({ kind: 'final' });
    try {
      const { translations } = await this.#opts.translator.translate({ texts: [caption.srcText], source: caption.srcLang, targets, orgId: caption.org });
      end();
      await Promise.all(
        translations.map((t) => this.#opts.publisher.publishFinal(t.target, { ...caption, lang: t.target, text: t.text, engine: t.engine, final: true })),
      );
    } catch (err) {
      end();
      this.#log.warn({ err, segment: caption.segment, targets }, 'final not translated');
    }
  }

  async #translateInterim(segment: string, open: OpenSegment, targets: string[]): Promise<void> {
    if (targets.length === 0) return;
    const text = open.text;
    const end = this.#opts.metrics.translationSeconds.startTimer({ kind: 'interim' });
    try {
      const { translations } = await this.#opts.translator.translate({ texts: [text], source: this.#opts.session.sourceLanguage, targets, orgId: this.#opts.session.orgId });
      end();
      // Its final may have been published meanwhile: a late interim would flash old text.
      if (!this.#open.has(segment) || this.#closed) return;
      const caption = this.#caption(segment, text, text, open.startMs, open.endMs, open.engine);
      for (const t of translations) void this.#opts.publisher.publishInterim(t.target, { ...caption, lang: t.target, text: t.text, engine: t.engine });
    } catch (err) {
      end();
      this.#log.debug({ err, segment }, 'interim not translated');
    }
  }

  /**
   * Segments whose speech worker died before their final: their audio is being recognized again
   * under new segment ids, so viewers are told to drop what they show for them (an interim with
   * empty text, in every language that saw it).
   */
  #retract(speechSegmentIds: string[]): void {
    for (const id of speechSegmentIds) {
      const segment = `${this.#opts.tap.producerId}-${id}`;
      const open = this.#open.get(segment);
      if (!open) continue;
      this.#open.delete(segment);
      const caption = this.#caption(segment, '', '', open.startMs, open.endMs, open.engine);
      for (const lang of [this.#opts.session.sourceLanguage, ...this.#targets()]) void this.#opts.publisher.publishInterim(lang, { ...caption, lang });
    }
  }

  /** Newly wanted languages get what is being said right now, without waiting for the next interim. */
  #catchUp(added: string[]): void {
    const src = this.#opts.session.sourceLanguage;
    const targets = added.filter((lang) => lang !== src);
    for (const [segment, open] of this.#open) void this.#translateInterim(segment, open, targets);
  }

  /** Stops listening and recognizing; idempotent. Waits for the finals in hand to be published. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.tap.off('chunk', this.#onChunk);
    this.#opts.demand.off('change', this.#onDemand);
    this.#opts.speech.close();
    await this.#pump;
  }
}
