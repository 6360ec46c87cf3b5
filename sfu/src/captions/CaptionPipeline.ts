import type { Logger } from 'pino';
import type { Counter, Histogram } from 'prom-client';
import type { UntranslatableReason } from '../../../core/src/captions/LanguageStatus.js';
import { DEFAULT_LANGUAGE_LIMITS } from '../../../core/src/config.js';
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
  /** `kind` interim: skip the translation cache (an interim is never asked for again). Targets that fail are in `failures`. */
  translate(request: { texts: string[]; source: string; targets: string[]; orgId: string; kind: 'final' | 'interim' }): Promise<{
    translations: { target: string; text: string; engine: string }[];
    failures?: { target: string; reason: Exclude<UntranslatableReason, 'language_limit'> }[];
  }>;
}

export interface CaptionPipelineMetrics {
  /** Speech end (wall clock) -> final transcript received from the speech worker. */
  sttFinalSeconds: Histogram;
  translationSeconds: Histogram<'kind'>;
  /** Finals that reached no viewer of a language, by language and reason (pc_caption_untranslated_finals_total). */
  untranslatedFinals: Counter<'language' | 'reason'>;
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
  /** Languages translated at once besides the source (PC_MAX_LANGUAGES_PER_SESSION); the first wanted keep their place. */
  maxLanguages?: number;
  /** Interims of one segment are translated at most this often. */
  interimTranslateIntervalMs?: number;
  now?: () => number;
}

const MAX_REPORTED_OVER_LIMIT = 64;

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
  readonly #maxLanguages: number;
  /** The languages translated now, in the order they became wanted: never more than #maxLanguages. */
  readonly #served = new Set<string>();
  /** Languages whose viewers were told they get no translation (and why). */
  readonly #untranslatable = new Map<string, UntranslatableReason>();
  readonly #pump: Promise<void>;
  readonly #onChunk = (chunk: AudioChunk) => this.#push(chunk);
  readonly #onDemand = ({ added }: { added: string[] }) => this.#catchUp(added);
  #closed = false;

  constructor(opts: CaptionPipelineOptions) {
    this.#opts = opts;
    this.#log = opts.log.child({ sessionId: opts.session.id, producerId: opts.tap.producerId });
    this.#now = opts.now ?? Date.now;
    this.#interimIntervalMs = opts.interimTranslateIntervalMs ?? 300;
    this.#maxLanguages = opts.maxLanguages ?? DEFAULT_LANGUAGE_LIMITS.maxPerSession;
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

  /**
   * Wanted languages other than the source (whose viewers read the transcript itself), at most
   * #maxLanguages: those already translated keep their place, so a burst of new languages (signaling
   * nodes bound them too, each on its own view) never takes captions away from existing viewers.
   */
  #targets(): string[] {
    const src = this.#opts.session.sourceLanguage;
    const wanted = new Set([...this.#opts.demand.langs].filter((lang) => lang !== src));
    for (const lang of this.#served) if (!wanted.has(lang)) this.#served.delete(lang);
    for (const lang of wanted) if (this.#served.size < this.#maxLanguages) this.#served.add(lang);
    return [...this.#served];
  }

  /** Wanted languages left out by the bound. */
  #overLimit(): string[] {
    const src = this.#opts.session.sourceLanguage;
    // Bounded too: these become metric labels and status messages (signaling refuses them anyway).
    return [...this.#opts.demand.langs].filter((lang) => lang !== src && !this.#served.has(lang)).slice(0, MAX_REPORTED_OVER_LIMIT);
  }

  async #translateFinal(caption: UnsequencedCaption): Promise<void> {
    const targets = this.#targets();
    const untranslated = new Map<string, UntranslatableReason>(this.#overLimit().map((lang) => [lang, 'language_limit']));
    if (targets.length > 0) {
      const end = this.#opts.metrics.translationSeconds.startTimer({ kind: 'final' });
      try {
        const { translations, failures = [] } = await this.#opts.translator.translate({ texts: [caption.srcText], source: caption.srcLang, targets, orgId: caption.org, kind: 'final' });
        end();
        for (const f of failures) untranslated.set(f.target, f.reason);
        if (failures.length > 0) this.#log.warn({ segment: caption.segment, failures }, 'final not translated into some languages');
        await Promise.all(
          translations.map(async (t) => {
            if (this.#untranslatable.delete(t.target)) await this.#opts.publisher.publishLanguageStatus(t.target, { state: 'translating' });
            await this.#opts.publisher.publishFinal(t.target, { ...caption, lang: t.target, text: t.text, engine: t.engine, final: true });
          }),
        );
      } catch (err) {
        end();
        for (const target of targets) if (!untranslated.has(target)) untranslated.set(target, 'engine_failed');
        this.#log.warn({ err, segment: caption.segment, targets }, 'final not translated');
      }
    }
    // Every final that a language misses is counted and told to its viewers, so one who joins later
    // learns it at the next final instead of waiting on "translating" forever.
    for (const [lang, reason] of untranslated) {
      this.#opts.metrics.untranslatedFinals.inc({ language: lang, reason });
      this.#untranslatable.set(lang, reason);
      // Not awaited (the next language's final must not wait on it); a publish on a closed
      // connection (shutdown) must not become an unhandled rejection that ends the process.
      this.#opts.publisher
        .publishLanguageStatus(lang, { state: 'untranslatable', reason })
        .catch((err: unknown) => this.#log.warn({ err, lang }, 'language status not published'));
    }
  }

  async #translateInterim(segment: string, open: OpenSegment, targets: string[]): Promise<void> {
    if (targets.length === 0) return;
    const text = open.text;
    const end = this.#opts.metrics.translationSeconds.startTimer({ kind: 'interim' });
    try {
      const { translations } = await this.#opts.translator.translate({ texts: [text], source: this.#opts.session.sourceLanguage, targets, orgId: this.#opts.session.orgId, kind: 'interim' });
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
    const served = new Set(this.#targets());
    const targets = added.filter((lang) => served.has(lang));
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
