import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { ALL_FINAL_CAPTIONS } from '../subjects.js';

export const CAPTION_STREAM = 'PC_CAPTIONS';

export interface CaptionStreamOptions {
  /** How long finals stay for resume and for a history writer that was down; history itself is in Postgres. */
  maxAgeMs: number;
  /** Window within which a republished caption (same message id) is dropped. */
  duplicateWindowMs: number;
}

export const DEFAULT_CAPTION_STREAM: CaptionStreamOptions = { maxAgeMs: 24 * 3_600_000, duplicateWindowMs: 120_000 };

const nanos = (ms: number) => ms * 1_000_000;

/** Creates the final-caption stream, or brings an existing one to these settings. Idempotent. */
export async function ensureCaptionStream(jsm: JetStreamManager, opts: CaptionStreamOptions = DEFAULT_CAPTION_STREAM): Promise<void> {
  const config: Partial<StreamConfig> = {
    name: CAPTION_STREAM,
    subjects: [ALL_FINAL_CAPTIONS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs),
    duplicate_window: nanos(opts.duplicateWindowMs),
  };
  try {
    await jsm.streams.info(CAPTION_STREAM);
    await jsm.streams.update(CAPTION_STREAM, config);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    await jsm.streams.add(config);
  }
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && /stream not found/i.test(err.message);
}
