import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamManager, type NatsConnection } from 'nats';
import { CaptionDecodeError, decodeCaption, type CaptionEvent } from './CaptionEvent.js';
import { CAPTION_STREAM } from './captionStream.js';
import { lastStoredFinal } from './lastStoredFinal.js';
import { finalCaptionSubject } from '../subjects.js';

export interface FinalCaptionFeedOptions {
  /** Replay the stored finals with a seq above this one first (resume); unset: only new finals. */
  afterSeq?: number;
  /** Called for a stored message that is not a valid caption; it is skipped. */
  onMalformed?: (err: CaptionDecodeError) => void;
}

/**
 * The final captions of one (session, language), in seq order, from the JetStream stream: an
 * ephemeral consumer filtered to that one subject, so the server sends nothing else. (The ordered
 * consumer API of the nats client needs nats-server 2.10; Debian 12 ships 2.9.)
 */
export class FinalCaptionFeed implements AsyncIterable<CaptionEvent> {
  readonly #messages: ConsumerMessages;
  readonly #jsm: JetStreamManager;
  readonly #consumerName: string;
  readonly #afterSeq: number;
  #closing: Promise<void> | undefined;
  #startSeq: number | undefined;
  readonly #onMalformed: ((err: CaptionDecodeError) => void) | undefined;

  private constructor(
    messages: ConsumerMessages,
    jsm: JetStreamManager,
    consumerName: string,
    afterSeq: number,
    onMalformed: ((err: CaptionDecodeError) => void) | undefined,
  ) {
    this.#messages = messages;
    this.#jsm = jsm;
    this.#consumerName = consumerName;
    this.#afterSeq = afterSeq;
    this.#onMalformed = onMalformed;
  }

  static async open(nc: NatsConnection, session: string, lang: string, opts: FinalCaptionFeedOptions = {}): Promise<FinalCaptionFeed> {
    const jsm = await nc.jetstreamManager();
    const subject = finalCaptionSubject(session, lang);
    const start = opts.afterSeq === undefined ? undefined : await firstStreamSeqAfter(jsm, session, lang, opts.afterSeq);
    const info = await jsm.consumers.add(CAPTION_STREAM, {
      filter_subject: subject,
      ...(opts.afterSeq === undefined
        ? { deliver_policy: DeliverPolicy.New }
        : start === undefined
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start }),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      // The server deletes the consumer this long after its reader is gone.
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await nc.jetstream().consumers.get(CAPTION_STREAM, info.name);
    // The consumer lives in the server's memory: after a nats-server restart it is gone, and the
    // client would otherwise wait for it to come back for ever. Ending the iteration instead lets
    // the reader reopen a feed after the last seq it has (LiveCaptionFeed does).
    const messages = await consumer.consume({ abort_on_missing_resource: true });
    const feed = new FinalCaptionFeed(messages, jsm, info.name, opts.afterSeq ?? -1, opts.onMalformed);
    feed.#startSeq = start;
    return feed;
  }

  /** The stream sequence the replay started at, when it could seek (tests). */
  get startSequenceForTesting(): number | undefined {
    return this.#startSeq;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CaptionEvent> {
    let lastSeq = this.#afterSeq;
    for await (const msg of this.#messages) {
      let event: CaptionEvent;
      try {
        event = decodeCaption(msg.data);
      } catch (err) {
        if (!(err instanceof CaptionDecodeError)) throw err;
        this.#onMalformed?.(err);
        continue;
      }
      // A republished caption can sit in the stream twice; seq makes each one count once.
      if (event.seq <= lastSeq) continue;
      lastSeq = event.seq;
      yield event;
    }
  }

  /**
   * Ends the iteration at once and deletes the server-side consumer; idempotent, never rejects.
   * (ConsumerMessages.close() would wait for the pending pull request to expire, up to 30 s.)
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#messages.stop();
      try {
        await this.#jsm.consumers.delete(CAPTION_STREAM, this.#consumerName);
      } catch {
        // Gone already, or NATS is away: the server drops it after inactive_threshold anyway.
      }
    })();
    return this.#closing;
  }
}

/**
 * Where a resume after `afterSeq` starts in the stream, so a reader far behind does not pull the
 * subject's whole retained history: the subject's finals carry increasing seqs, so a binary search
 * over stream sequences with `next_by_subj` (log2 of the stream's length in lookups) finds the
 * first one above `afterSeq`. Undefined when the stream cannot say (then the caller replays all
 * and skips by seq).
 */
async function firstStreamSeqAfter(jsm: JetStreamManager, session: string, lang: string, afterSeq: number): Promise<number | undefined> {
  const subject = finalCaptionSubject(session, lang);
  try {
    const last = await lastStoredFinal(jsm, session, lang);
    if (last === undefined) return undefined;
    if (last.caption.seq <= afterSeq) return last.streamSeq + 1;
    // Invariant: `best` is on the subject with a seq above afterSeq, and no final above afterSeq
    // sits before `lo`; each step shrinks [lo, hi].
    let best = last.streamSeq;
    let lo = (await jsm.streams.info(CAPTION_STREAM)).state.first_seq;
    let hi = last.streamSeq - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      // nats-server (2.9+) answers next_by_subj on STREAM.MSG.GET too; the client types it only for
      // direct gets, which need allow_direct on the stream.
      const nextOnSubject = { seq: mid, next_by_subj: subject };
      const found = await jsm.streams.getMessage(CAPTION_STREAM, nextOnSubject);
      if (found.seq >= best) {
        hi = mid - 1; // nothing of the subject in [mid, best)
      } else if (decodeCaption(found.data).seq > afterSeq) {
        best = found.seq;
        hi = mid - 1;
      } else {
        lo = found.seq + 1;
      }
    }
    return best;
  } catch {
    // Nothing stored yet, a malformed message on the way, or a server that cannot look: replay all.
    return undefined;
  }
}
