import { OpusDecoder } from 'opus-decoder';
import type { Logger } from 'pino';
import type { types } from 'mediasoup';
import { SafeEmitter } from '../../../core/src/events.js';
import type { SessionMedia } from '../SessionMedia.js';
import { OPUS_RTP_CLOCK_HZ, parseRtp, rtpTimestampDelta } from './rtpTime.js';

export const TAP_SAMPLE_RATE_HZ = 16_000;
/** 100 ms of 16 kHz mono LINEAR16: what a speech stream is fed per message. */
export const CHUNK_SAMPLES = 1_600;
/** A gap longer than this (the host muted, or a long loss) is not filled with silence; the clock resyncs. */
const MAX_SILENCE_FILL_MS = 2_000;

export interface AudioChunk {
  /** 16 kHz mono signed 16-bit little-endian, CHUNK_SAMPLES samples. */
  pcm: Buffer;
  /** Where the chunk starts in this tap's audio (ms since its first sample). */
  streamOffsetMs: number;
  /** Wall-clock time (ms since epoch) at which the chunk's first sample was spoken. */
  wallClockMs: number;
}

export type AudioTapEvents = { chunk: [AudioChunk]; close: [] };

export interface AudioTapOptions {
  media: SessionMedia;
  producerId: string;
  log: Logger;
  now?: () => number;
}

/**
 * Decodes one audio producer to 16 kHz mono PCM in Node, once per producer whatever the audience:
 * a DirectTransport consumer hands us its RTP, Opus is decoded straight at 16 kHz (no resampling
 * step), and RTP timestamps are mapped to wall-clock time so each chunk knows when it was spoken.
 * Lost packets are filled with silence so stream offsets stay true to RTP time.
 */
export class AudioTap extends SafeEmitter<AudioTapEvents> {
  readonly producerId: string;
  readonly #media: SessionMedia;
  readonly #peer: string;
  readonly #decoder: OpusDecoder<16000>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #pending = new Int16Array(CHUNK_SAMPLES);
  #pendingLength = 0;
  /** Samples emitted or pending since the first packet. */
  #samples = 0;
  #firstWallClockMs = 0;
  #expectedTimestamp: number | undefined;
  #closed = false;

  private constructor(media: SessionMedia, peer: string, producerId: string, consumer: types.Consumer, decoder: OpusDecoder<16000>, log: Logger, now: () => number) {
    super();
    this.#media = media;
    this.#peer = peer;
    this.producerId = producerId;
    this.#decoder = decoder;
    this.#log = log;
    this.#now = now;
    consumer.on('rtp', (packet) => this.#onRtp(packet));
    consumer.once('producerclose', () => this.close());
    consumer.once('transportclose', () => this.close());
  }

  static async create({ media, producerId, log, now = Date.now }: AudioTapOptions): Promise<AudioTap> {
    const decoder = new OpusDecoder({ sampleRate: TAP_SAMPLE_RATE_HZ, channels: 1 });
    await decoder.ready;
    const peer = `tap-${producerId}`;
    const transportId = await media.createDirectTransport(peer);
    const consumer = await media.consume(peer, transportId, producerId);
    return new AudioTap(media, peer, producerId, consumer, decoder, log.child({ producerId }), now);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #onRtp(packet: Buffer): void {
    const rtp = parseRtp(packet);
    if (!rtp) return;
    const now = this.#now();
    if (this.#expectedTimestamp === undefined) {
      this.#firstWallClockMs = now;
    } else {
      const gap = rtpTimestampDelta(this.#expectedTimestamp, rtp.timestamp);
      if (gap < 0) return; // late or duplicated: its time has been filled already
      const gapMs = (gap * 1000) / OPUS_RTP_CLOCK_HZ;
      if (gapMs > MAX_SILENCE_FILL_MS) {
        this.#flush();
        // Resync: this packet was spoken now, and the stream offset jumps by the real gap.
        this.#samples = Math.round(((now - this.#firstWallClockMs) * TAP_SAMPLE_RATE_HZ) / 1000);
      } else if (gap > 0) {
        this.#append(new Int16Array(Math.round((gap * TAP_SAMPLE_RATE_HZ) / OPUS_RTP_CLOCK_HZ)));
      }
    }
    const { channelData, samplesDecoded } = this.#decoder.decodeFrame(rtp.payload);
    const mono = channelData[0];
    if (!mono || samplesDecoded === 0) return;
    const pcm = new Int16Array(samplesDecoded);
    for (let i = 0; i < samplesDecoded; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(mono[i]! * 32767)));
    this.#append(pcm);
    this.#expectedTimestamp = (rtp.timestamp + (samplesDecoded * OPUS_RTP_CLOCK_HZ) / TAP_SAMPLE_RATE_HZ) >>> 0;
  }

  #append(samples: Int16Array): void {
    let offset = 0;
    while (offset < samples.length) {
      const n = Math.min(samples.length - offset, CHUNK_SAMPLES - this.#pendingLength);
      this.#pending.set(samples.subarray(offset, offset + n), this.#pendingLength);
      this.#pendingLength += n;
      offset += n;
      if (this.#pendingLength === CHUNK_SAMPLES) this.#flush();
    }
  }

  /** Emits what is pending (a full chunk, or the rest before a resync or close). */
  #flush(): void {
    if (this.#pendingLength === 0) return;
    const startSample = this.#samples;
    const pcm = Buffer.from(this.#pending.buffer.slice(0, this.#pendingLength * 2));
    this.#samples += this.#pendingLength;
    this.#pendingLength = 0;
    const streamOffsetMs = (startSample * 1000) / TAP_SAMPLE_RATE_HZ;
    this.safeEmit('chunk', { pcm, streamOffsetMs, wallClockMs: this.#firstWallClockMs + streamOffsetMs });
  }

  /** Idempotent; emits what is pending, then 'close'. Its transport and consumer go with it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    this.#media.closePeer(this.#peer);
    this.#decoder.free();
    this.#log.debug('audio tap closed');
    this.safeEmit('close');
  }
}
