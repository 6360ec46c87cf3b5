import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { decodeCaption, type CaptionEvent } from '../../../core/src/captions/CaptionEvent.js';
import { CAPTION_STREAM } from '../../../core/src/captions/captionStream.js';
import type { Database, NewTranslationHistoryRow } from '../Database.js';

export interface HistoryWriterOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  db: Kysely<Database>;
  log: Logger;
  registry: Registry;
  /** Durable consumer name: every history process shares it, so each caption is written by one of them. */
  durable?: string;
  batchSize?: number;
  /** How long one fetch waits for a batch to fill; the NATS client wants at least 1000. */
  fetchExpiresMs?: number;
  /** Redelivery delay after a database failure. */
  retryDelayMs?: number;
}

/**
 * Moves final captions from the JetStream stream into translation_history: a batch per fetch, one
 * multi-row INSERT ... ON CONFLICT DO NOTHING, acked only after the commit. A redelivered caption
 * hits the unique key and adds nothing. A caption the database refuses (say, an unknown session)
 * is isolated by retrying the batch row by row, terminated and counted, so it cannot hold back the
 * captions behind it; a database outage naks the batch for redelivery instead.
 */
export class HistoryWriter {
  readonly #opts: Required<Omit<HistoryWriterOptions, 'registry'>>;
  readonly #abort = new AbortController();
  readonly #written: Counter;
  readonly #rejected: Counter<'reason'>;
  readonly #batchSeconds: Histogram;
  #loop: Promise<void> | undefined;

  constructor(opts: HistoryWriterOptions) {
    this.#opts = { durable: 'history-writer', batchSize: 500, fetchExpiresMs: 1_000, retryDelayMs: 2_000, ...opts };
    this.#written = new Counter({ name: 'pc_history_rows_written_total', help: 'Final captions inserted into translation_history', registers: [opts.registry] });
    this.#rejected = new Counter({
      name: 'pc_history_captions_rejected_total',
      help: 'Captions dropped from history: undecodable or refused by the database',
      labelNames: ['reason'],
      registers: [opts.registry],
    });
    this.#batchSeconds = new Histogram({
      name: 'pc_history_batch_seconds',
      help: 'Time to insert one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [opts.registry],
    });
  }

  /** Creates the durable consumer if needed and starts consuming; returns once it is consuming. */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.#opts.jsm.consumers.add(CAPTION_STREAM, {
      durable_name: this.#opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
      max_ack_pending: this.#opts.batchSize * 4,
      // A caption that still cannot be written after this many tries (say, its month's partition
      // is long gone) stops being redelivered; JetStream emits a max-deliveries advisory for it.
      max_deliver: 50,
    });
    const consumer = await this.#opts.js.consumers.get(CAPTION_STREAM, this.#opts.durable);
    this.#loop = (async () => {
      while (!this.#abort.signal.aborted) {
        const messages: JsMsg[] = [];
        const batch = await consumer.fetch({ max_messages: this.#opts.batchSize, expires: this.#opts.fetchExpiresMs });
        for await (const msg of batch) messages.push(msg);
        if (messages.length > 0) await this.#write(messages);
      }
    })();
    this.#loop.catch((err: unknown) => this.#opts.log.error({ err }, 'history writer stopped'));
  }

  async #write(messages: JsMsg[]): Promise<void> {
    const rows: { msg: JsMsg; row: NewTranslationHistoryRow }[] = [];
    for (const msg of messages) {
      try {
        rows.push({ msg, row: toRow(decodeCaption(msg.data)) });
      } catch (err) {
        this.#opts.log.warn({ err, subject: msg.subject, streamSeq: msg.seq }, 'undecodable caption dropped from history');
        this.#rejected.inc({ reason: 'undecodable' });
        msg.term();
      }
    }
    if (rows.length === 0) return;
    const end = this.#batchSeconds.startTimer();
    try {
      await this.#insert(rows.map((r) => r.row));
      for (const { msg } of rows) msg.ack();
      this.#written.inc(rows.length);
    } catch (err) {
      if (!isRowError(err)) {
        this.#opts.log.error({ err, rows: rows.length }, 'history batch failed; redelivering');
        for (const { msg } of rows) msg.nak(this.#opts.retryDelayMs);
        return;
      }
      await this.#writeOneByOne(rows);
    } finally {
      end();
    }
  }

  async #writeOneByOne(rows: { msg: JsMsg; row: NewTranslationHistoryRow }[]): Promise<void> {
    for (const { msg, row } of rows) {
      try {
        await this.#insert([row]);
        msg.ack();
        this.#written.inc();
      } catch (err) {
        if (!isRowError(err)) {
          msg.nak(this.#opts.retryDelayMs);
          continue;
        }
        this.#opts.log.warn({ err, session: row.session_id, segment: row.segment_id, lang: row.target_language }, 'caption refused by the database, dropped from history');
        this.#rejected.inc({ reason: 'refused' });
        msg.term();
      }
    }
  }

  async #insert(rows: NewTranslationHistoryRow[]): Promise<void> {
    await this.#opts.db
      .insertInto('translation_history')
      .values(rows)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** Stops fetching and waits for the batch in hand to be written and acked. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop?.catch(() => undefined); // already logged where it failed
  }
}

export function toRow(event: CaptionEvent): NewTranslationHistoryRow {
  return {
    organization_id: event.org,
    session_id: event.session,
    segment_id: event.segment,
    seq: event.seq,
    speaker_id: event.speaker,
    source_language: event.srcLang,
    target_language: event.lang,
    source_text: event.srcText,
    translated_text: event.text,
    engine: event.engine,
    is_final: event.final,
    audio_end_at: new Date(event.audioEndAt),
    // From the event, never the clock: part of the idempotency key.
    translated_at: new Date(event.publishedAt),
  };
}

/**
 * Errors that belong to the rows, not the database: bad data (class 22) and integrity violations
 * (class 23, e.g. an unknown session). A row with no partition for its month is not one of them:
 * partition maintenance creates months ahead, so that one is retried, not dropped.
 */
function isRowError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'string') return false;
  if (err instanceof Error && /no partition of relation/.test(err.message)) return false;
  return err.code.startsWith('22') || err.code.startsWith('23');
}
