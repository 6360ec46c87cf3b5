import type { JetStreamManager, StoredMsg } from 'nats';
import { decodeCaption, type CaptionEvent } from './CaptionEvent.js';
import { CAPTION_STREAM } from './captionStream.js';
import { finalCaptionSubject } from '../subjects.js';

export interface StoredFinal {
  caption: CaptionEvent;
  /** Its sequence in the stream (not the caption's seq). */
  streamSeq: number;
}

/**
 * The last final of (session, lang) stored in the caption stream; undefined when there is none.
 * Where a publisher's seqs continue after a restart and where a live feed takes over from a replay.
 * Throws CaptionDecodeError for a stored message that is not a caption, and the client's error when
 * the stream cannot be read.
 */
export async function lastStoredFinal(jsm: JetStreamManager, session: string, lang: string): Promise<StoredFinal | undefined> {
  let stored: StoredMsg;
  try {
    stored = await jsm.streams.getMessage(CAPTION_STREAM, { last_by_subj: finalCaptionSubject(session, lang) });
  } catch (err) {
    if (err instanceof Error && /no message found/i.test(err.message)) return undefined;
    throw err;
  }
  return { caption: decodeCaption(stored.data), streamSeq: stored.seq };
}
