import { z } from 'zod';

/**
 * One caption on the wire (NATS, then WebSocket): JSON, version 1. `seq` increases by one per
 * (session, lang) for finals, so a viewer resumes after a reconnect with no gap and no duplicate;
 * interims carry the seq of the final they will become.
 */
export const captionEventSchema = z.object({
  v: z.literal(1),
  org: z.string().min(1),
  session: z.string().min(1),
  segment: z.string().min(1),
  seq: z.number().int().nonnegative(),
  lang: z.string().min(2),
  srcLang: z.string().min(2),
  text: z.string(),
  /** The recognized source text this caption translates (equal to text when lang is srcLang). */
  srcText: z.string(),
  final: z.boolean(),
  /** Participant id of the speaker, when known. */
  speaker: z.string().nullable(),
  speakerName: z.string().nullable(),
  /** Offsets of the utterance in the speaker's audio stream. */
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
  /** Wall-clock time (ms since epoch) when the speech of this segment ended. */
  audioEndAt: z.number().int().nonnegative(),
  /** Wall-clock time (ms since epoch) when the pipeline published it. */
  publishedAt: z.number().int().nonnegative(),
  /** Which engine produced the text (speech engine for the source language, else the translator). */
  engine: z.string(),
});

export type CaptionEvent = z.infer<typeof captionEventSchema>;

export class CaptionDecodeError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'CaptionDecodeError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCaption(event: CaptionEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** Throws CaptionDecodeError saying what is wrong; never returns a half-valid event. */
export function decodeCaption(data: Uint8Array): CaptionEvent {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new CaptionDecodeError('caption is not JSON', err);
  }
  const parsed = captionEventSchema.safeParse(json);
  if (!parsed.success) {
    throw new CaptionDecodeError(`invalid caption: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}
