import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamManager, type NatsConnection } from 'nats';
import { CaptionDecodeError, decodeCaption, type CaptionEvent } from './CaptionEvent.js';
import { CAPTION_STREAM } from './captionStream.js';
import { finalCaptionSubject } from './subjects.js';

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
    const info = await jsm.consumers.add(CAPTION_STREAM, {
      filter_subject: finalCaptionSubject(session, lang),
      deliver_policy: opts.afterSeq === undefined ? DeliverPolicy.New : DeliverPolicy.All,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      // The server deletes the consumer this long after its reader is gone.
      inactive_threshold: 30_000_000_000,
    });
    const consumer = await nc.jetstream().consumers.get(CAPTION_STREAM, info.name);
    return new FinalCaptionFeed(await consumer.consume(), jsm, info.name, opts.afterSeq ?? -1, opts.onMalformed);
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
