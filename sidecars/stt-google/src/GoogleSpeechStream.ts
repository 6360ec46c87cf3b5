import { status } from '@grpc/grpc-js';
import type { SpeechClient } from '@google-cloud/speech';
import type { Logger } from 'pino';
import {
  fromServiceError,
  statusCodeOf,
  type PolyglotError,
  type RecognitionResult,
  type SpeechStream,
  type SpeechStreamConfig,
  type WordTiming,
} from '../../sdk/src/index.js';
import { GoogleRecognizeCall, type CallResult } from './_GoogleRecognizeCall.js';
import { OverlapFilter } from './OverlapFilter.js';
import { ProviderReplayBuffer } from './ProviderReplayBuffer.js';

/** Timers the stream schedules; tests pass their own so nothing depends on wall time. */
export interface SpeechTimers {
  /** Runs `fn` after `ms`; the returned function cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const SYSTEM_TIMERS: SpeechTimers = {
  schedule(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};

/** How provider calls are replaced. Audio durations are audio time, not wall time. */
export interface RotationOptions {
  /** Rotate once a provider call has carried this much audio. Google ends a call at 5 minutes. */
  rotateAfterAudioMs: number;
  /** From this much audio on, rotate right after the next final, where the seam costs least. */
  rotateAtFinalAfterAudioMs: number;
  /** Most audio kept for replay into a replacement call (the audio since the last final). */
  maxReplayMs: number;
  /** How long a retired call may take to send its last finals before it is cancelled. */
  drainTimeoutMs: number;
  /** Half-close the call after this long without audio; Google fails a call left idle for ~10 s. */
  idleMs: number;
  /** Replacement calls in a row, with no final in between, before the stream fails. */
  maxReopens: number;
}

export const DEFAULT_ROTATION: RotationOptions = {
  rotateAfterAudioMs: 270_000,
  rotateAtFinalAfterAudioMs: 240_000,
  // The SDK asks engines to hold a minute of audio: after a client failover seconds arrive at once.
  maxReplayMs: 60_000,
  drainTimeoutMs: 5_000,
  idleMs: 5_000,
  maxReopens: 3,
};

export interface GoogleSpeechStreamOptions {
  client: SpeechClient;
  config: SpeechStreamConfig;
  signal: AbortSignal;
  rotation: RotationOptions;
  timers: SpeechTimers;
  model?: string;
  log: Logger;
  /** Called once by close(), for the engine's bookkeeping. */
  onClose?: () => void;
}

/** One provider call and the results it produced that are not delivered yet. */
interface Lane {
  call: GoogleRecognizeCall;
  /** Results held while the previous call drains: they may repeat what it is about to finalize. */
  held: CallResult[];
  /** Created when the lane's results start flowing, once every earlier final is out. */
  filter: OverlapFilter | undefined;
}

/**
 * A SpeechStream over Google StreamingRecognize (v1) that outlives Google's 5-minute call limit.
 *
 * Rotation without losing or duplicating audio:
 * 1. Every pushed chunk is kept in a ProviderReplayBuffer until a final covers it (trimmed at each final's
 *    end), so the buffer always holds exactly the audio not yet finalized.
 * 2. Near the limit (at the first final after `rotateAtFinalAfterAudioMs`, at the latest at
 *    `rotateAfterAudioMs`), a new call opens and is first fed the whole buffer, then the live audio.
 *    The old call is half-closed: Google finalizes what it heard and ends it ("draining").
 * 3. The old call's finals are delivered as they come; the new call's results are held until the
 *    drain is over. Then they pass an OverlapFilter whose watermark is the end of the last final:
 *    words starting before it were finalized by the old call and are dropped, words after it are
 *    new. Offsets of every call are moved onto this stream's timeline (call offset + the stream
 *    offset of the first replayed byte), so the comparison is exact.
 * A call the provider ends unexpectedly (OUT_OF_RANGE past the limit, UNAVAILABLE) is replaced the
 * same way, minus the drain: the replay restarts from the last final. An utterance whose interims
 * were shown but whose final the old call never sent is continued under the same segment id.
 */
export class GoogleSpeechStream implements SpeechStream {
  readonly #client: SpeechClient;
  readonly #streamingConfig: ReturnType<typeof streamingConfigFor>;
  readonly #rotation: RotationOptions;
  readonly #timers: SpeechTimers;
  readonly #log: Logger;
  readonly #onClose: (() => void) | undefined;
  readonly #replay: ProviderReplayBuffer;
  #active: Lane | undefined;
  #draining: Lane | undefined;
  #cancelDrainTimer: (() => void) | undefined;
  #cancelIdleTimer: (() => void) | undefined;
  /** Stream offset of the end of the last final delivered. */
  #finalizedMs = 0;
  /** Stream offset up to which some call heard the audio and ended cleanly (so finalized it). */
  #flushedToMs = 0;
  /** Words of recent finals, for filtering interims (which have no word timings) after a seam. */
  #recentWords: WordTiming[] = [];
  #openSegment: string | undefined;
  #segments = 0;
  #calls = 0;
  #reopensWithoutFinal = 0;
  #deliveringHeld = false;
  #inputEnded = false;
  #closed = false;
  #finished = false;
  #error: PolyglotError | undefined;
  #queue: RecognitionResult[] = [];
  #wake: (() => void) | undefined;

  constructor({ client, config, signal, rotation, timers, model, log, onClose }: GoogleSpeechStreamOptions) {
    validateRotation(rotation);
    this.#client = client;
    this.#streamingConfig = streamingConfigFor(config, model);
    this.#rotation = rotation;
    this.#timers = timers;
    this.#log = log;
    this.#onClose = onClose;
    this.#replay = new ProviderReplayBuffer(rotation.maxReplayMs);
    if (signal.aborted) this.close();
    else signal.addEventListener('abort', () => this.close(), { once: true });
  }

  pushAudio(pcm: Buffer): void {
    if (this.#closed || this.#inputEnded || pcm.length === 0) return;
    this.#replay.append(pcm);
    if (this.#active === undefined) {
      this.#open('audio');
    } else {
      this.#active.call.write(pcm);
      if (this.#active.call.audioMs >= this.#rotation.rotateAfterAudioMs) this.#rotate('audio limit');
    }
    this.#cancelIdleTimer?.();
    this.#cancelIdleTimer = this.#timers.schedule(() => this.#onIdle(), this.#rotation.idleMs);
  }

  endInput(): void {
    if (this.#closed || this.#inputEnded) return;
    this.#inputEnded = true;
    this.#cancelIdleTimer?.();
    this.#active?.call.end();
    this.#maybeFinish();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelIdleTimer?.();
    this.#cancelDrainTimer?.();
    // Cancelling, not half-closing: a closed stream delivers nothing more, so no flush is wanted.
    this.#active?.call.cancel();
    this.#draining?.call.cancel();
    this.#active = undefined;
    this.#draining = undefined;
    this.#finished = true;
    this.#wake?.();
    this.#onClose?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecognitionResult> {
    try {
      for (;;) {
        const next = this.#queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        if (this.#error !== undefined) throw this.#error;
        if (this.#finished) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      this.close();
    }
  }

  #open(reason: string): void {
    const call = new GoogleRecognizeCall({
      client: this.#client,
      streamingConfig: this.#streamingConfig,
      baseMs: this.#replay.startMs,
      id: ++this.#calls,
      handlers: {
        result: (c, r) => this.#onResult(c, r),
        end: (c) => this.#onEnd(c),
        error: (c, err) => this.#onError(c, err),
      },
    });
    this.#active = { call, held: [], filter: undefined };
    const chunks = this.#replay.chunks();
    for (const chunk of chunks) call.write(chunk);
    if (this.#inputEnded) call.end();
    this.#log.debug({ call: call.id, reason, replayMs: this.#replay.endMs - call.baseMs }, 'provider call opened');
  }

  /** Retires the active call (half-close + drain) and, unless `replace` is false, opens its successor. */
  #rotate(reason: string, replace = true): void {
    const old = this.#active;
    if (old === undefined || this.#draining !== undefined || this.#closed) return;
    this.#active = undefined;
    this.#draining = old;
    old.call.end();
    this.#cancelDrainTimer = this.#timers.schedule(() => {
      this.#log.warn({ call: old.call.id, drainTimeoutMs: this.#rotation.drainTimeoutMs }, 'retired call did not finish in time; replaying its audio instead');
      old.call.cancel();
      this.#drained(old);
    }, this.#rotation.drainTimeoutMs);
    this.#log.info({ call: old.call.id, audioMs: old.call.audioMs, reason }, 'rotating provider call');
    if (replace && !this.#inputEnded) this.#open(reason);
  }

  #onIdle(): void {
    // No audio for a while: let Google finalize what it has rather than fail the call for
    // inactivity; the next audio opens a new call.
    if (this.#active?.call.open) this.#rotate('idle', false);
  }

  #onResult(call: GoogleRecognizeCall, result: CallResult): void {
    if (this.#closed) return;
    const draining = this.#draining;
    if (call === draining?.call) {
      // The retired call is the authority for the audio it heard; its interims are superseded by
      // the new call's. Its own filter still applies (it may itself have started with a replay).
      if (result.isFinal) this.#deliverFrom(draining, result);
      return;
    }
    const lane = this.#active;
    if (lane === undefined || call !== lane.call) return;
    if (this.#draining !== undefined) lane.held.push(result);
    else this.#deliverFrom(lane, result);
  }

  #deliverFrom(lane: Lane, result: CallResult): void {
    lane.filter ??= new OverlapFilter(
      this.#finalizedMs,
      this.#recentWords.filter((w) => w.startMs >= lane.call.baseMs).map((w) => w.word),
    );
    const kept = lane.filter.apply({ segmentId: '', ...result });
    if (kept === undefined) return;
    this.#deliver(kept);
    if (kept.isFinal && !this.#deliveringHeld && lane === this.#active && lane.call.audioMs >= this.#rotation.rotateAtFinalAfterAudioMs) {
      this.#rotate('final after soft limit');
    }
  }

  #deliver(result: Omit<RecognitionResult, 'segmentId'>): void {
    if (result.isFinal) {
      this.#finalizedMs = Math.max(this.#finalizedMs, result.endMs);
      this.#reopensWithoutFinal = 0;
      const words = result.words.length > 0 ? result.words : textWords(result);
      this.#recentWords.push(...words);
      this.#replay.trimBefore(this.#finalizedMs);
      const keepFrom = Math.min(this.#replay.startMs, this.#active?.call.baseMs ?? Infinity);
      this.#recentWords = this.#recentWords.filter((w) => w.startMs >= keepFrom);
      // An empty final for an utterance nobody saw carries nothing worth sending.
      if (result.text.length === 0 && this.#openSegment === undefined) return;
    } else if (result.text.length === 0) {
      return;
    }
    const segmentId = this.#openSegment ?? `g${++this.#segments}`;
    this.#openSegment = result.isFinal ? undefined : segmentId;
    this.#enqueue({ ...result, segmentId });
  }

  #enqueue(result: RecognitionResult): void {
    // Queue bound: an interim replaces a queued interim of the same segment (interims replace each
    // other anyway); finals are never dropped and arrive at speech pace.
    const last = this.#queue[this.#queue.length - 1];
    if (!result.isFinal && last !== undefined && !last.isFinal && last.segmentId === result.segmentId) this.#queue.pop();
    this.#queue.push(result);
    this.#wake?.();
  }

  #onEnd(call: GoogleRecognizeCall): void {
    if (this.#closed) return;
    this.#flushedToMs = Math.max(this.#flushedToMs, call.baseMs + call.audioMs);
    if (call === this.#draining?.call) return this.#drained(this.#draining);
    const lane = this.#active;
    if (lane === undefined || call !== lane.call) return;
    if (this.#inputEnded) return this.#maybeFinish();
    // Google ended the call on its own, having finalized everything it heard: carry on lazily.
    this.#active = undefined;
    if (this.#draining === undefined) for (const r of lane.held.splice(0)) this.#deliverFrom(lane, r);
  }

  #onError(call: GoogleRecognizeCall, err: unknown): void {
    if (this.#closed) return;
    if (call === this.#draining?.call) {
      this.#log.warn({ call: call.id, err }, 'retired call failed while draining; its audio is replayed');
      return this.#drained(this.#draining);
    }
    if (call !== this.#active?.call) return;
    const code = statusCodeOf(err);
    const replaceable = code === status.OUT_OF_RANGE || code === status.UNAVAILABLE || code === status.ABORTED;
    if (!replaceable || this.#reopensWithoutFinal >= this.#rotation.maxReopens) return this.#fail(fromServiceError(err, 'google streamingRecognize'));
    this.#reopensWithoutFinal++;
    // OUT_OF_RANGE is Google's stream limit: expected when rotation did not come first.
    const fields = { call: call.id, code: status[code], audioMs: call.audioMs, replayMs: this.#replay.endMs - this.#replay.startMs };
    if (code === status.OUT_OF_RANGE) this.#log.info(fields, 'provider ended the call at its limit; replaying since the last final');
    else this.#log.warn({ ...fields, err }, 'provider call failed; replaying since the last final');
    // Its unheld results are lost with it; the replacement hears their audio again.
    this.#active = undefined;
    if (this.#replay.endMs > this.#replay.startMs || this.#inputEnded) this.#open('provider ended the call');
    else this.#maybeFinish();
  }

  #drained(lane: Lane): void {
    if (lane !== this.#draining) return;
    this.#cancelDrainTimer?.();
    this.#cancelDrainTimer = undefined;
    this.#draining = undefined;
    const next = this.#active;
    if (next !== undefined) {
      this.#deliveringHeld = true;
      for (const r of next.held.splice(0)) this.#deliverFrom(next, r);
      this.#deliveringHeld = false;
      if (next.call.done) this.#active = undefined;
    }
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (!this.#inputEnded || this.#finished || this.#draining !== undefined) return;
    const lane = this.#active;
    if (lane !== undefined) {
      if (!lane.call.done) return;
      this.#active = undefined;
    }
    // Audio no call flushed (its call failed, or a drain timed out): one last call hears it again.
    if (this.#replay.endMs > Math.max(this.#flushedToMs, this.#finalizedMs) && this.#reopensWithoutFinal < this.#rotation.maxReopens) {
      this.#reopensWithoutFinal++;
      this.#open('flush at end of input');
      return;
    }
    this.#finished = true;
    this.#wake?.();
  }

  #fail(err: PolyglotError): void {
    if (this.#finished) return;
    this.#error = err;
    this.close();
  }
}

function streamingConfigFor(config: SpeechStreamConfig, model: string | undefined) {
  return {
    config: {
      encoding: 'LINEAR16' as const,
      sampleRateHertz: config.sampleRateHz,
      languageCode: config.language,
      maxAlternatives: 1,
      // Word offsets are what lets a rotation drop exactly the words already finalized.
      enableWordTimeOffsets: true,
      enableAutomaticPunctuation: true,
      // Glossary terms of the organization as phrase hints.
      speechContexts: config.phraseHints.length > 0 ? [{ phrases: [...config.phraseHints] }] : [],
      ...(model ? { model } : {}),
    },
    interimResults: config.interimResults,
  };
}

function textWords(result: Omit<RecognitionResult, 'segmentId'>): WordTiming[] {
  return result.text
    .split(/\s+/)
    .filter((w) => w.length > 0)
    .map((word) => ({ word, startMs: result.startMs, endMs: result.endMs, confidence: 0 }));
}

/** Throws a TypeError naming the first bad rotation setting. */
export function validateRotation(r: RotationOptions): void {
  for (const [key, value] of Object.entries(r)) {
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`rotation.${key} must be a non-negative number (got ${value})`);
  }
  if (r.rotateAtFinalAfterAudioMs > r.rotateAfterAudioMs) throw new TypeError('rotation.rotateAtFinalAfterAudioMs must not exceed rotateAfterAudioMs');
  // A replay longer than half a call would leave the replacement call little room before its own rotation.
  if (r.maxReplayMs * 2 > r.rotateAfterAudioMs) throw new TypeError('rotation.maxReplayMs must be at most half of rotateAfterAudioMs');
}
