import type { CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import type { LanguageStatus } from '../../core/src/captions/LanguageStatus.js';
import type { ServerMessageOf } from './protocol.js';

/**
 * One caption as a WebSocket frame: serialized once, then the same Buffer is written to every
 * socket that reads its language (seed C-1: broadcasting costs no per-socket work but the write).
 */
export interface CaptionFrame {
  /** The text frame's payload, a `caption` server message; shared by every socket it goes to. */
  readonly data: Buffer;
  readonly seq: number;
  readonly segment: string;
  readonly final: boolean;
  /** When the pipeline published it (ms since the epoch): the start of the delivery-latency metric. */
  readonly publishedAt: number;
  /** From the live feed; false for a replayed final, which the latency metric leaves out. */
  readonly live: boolean;
}

/** The caption server message for an event (the fields a viewer uses; org, engine and srcText stay on the bus). */
export function captionMessage(event: CaptionEvent): ServerMessageOf<'caption'> {
  return {
    type: 'caption',
    lang: event.lang,
    seq: event.seq,
    segment: event.segment,
    final: event.final,
    text: event.text,
    speaker: event.speaker,
    speakerName: event.speakerName,
    startMs: event.startMs,
    endMs: event.endMs,
    audioEndAt: event.audioEndAt,
    publishedAt: event.publishedAt,
  };
}

/** The captionsLive marker of one socket (see protocol.ts): small, per socket, never per caption. */
export function encodeLiveMarker(lang: string, seq: number): Buffer {
  const message: ServerMessageOf<'captionsLive'> = { type: 'captionsLive', lang, seq };
  return Buffer.from(JSON.stringify(message));
}

export function encodeCaptionFrame(event: CaptionEvent, live: boolean): CaptionFrame {
  return {
    data: Buffer.from(JSON.stringify(captionMessage(event))),
    seq: event.seq,
    segment: event.segment,
    final: event.final,
    publishedAt: event.publishedAt,
    live,
  };
}

/** The languageStatus message of a pipeline status (see protocol.ts), once per change per channel. */
export function encodeLanguageStatusFrame(status: LanguageStatus): Buffer {
  const message: ServerMessageOf<'languageStatus'> =
    status.state === 'untranslatable'
      ? { type: 'languageStatus', lang: status.lang, state: 'untranslatable', reason: status.reason ?? 'engine_failed' }
      : { type: 'languageStatus', lang: status.lang, state: 'translating' };
  return Buffer.from(JSON.stringify(message));
}
