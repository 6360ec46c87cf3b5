// Local stand-in for Google Cloud Speech-to-Text v1 StreamingRecognize: plaintext gRPC on 127.0.0.1,
// messages encoded with the static protobuf classes @google-cloud/speech ships, so the real
// SpeechClient talks to it exactly as it talks to Google.
//
// Recognition model (see wordAudio.ts): a run of one non-zero sample value N is the word `wN`;
// `endpointMs` of silence after a word ends the utterance with a final result. Interim results
// (no word timings, like Google's) follow every audio message. Half-closing the call flushes the
// pending utterance as a final, then the call ends with OK. A call that carries more than `limitMs`
// of audio fails with OUT_OF_RANGE, as Google does after its 5 minutes.
import * as grpc from '@grpc/grpc-js';
import { protos } from '@google-cloud/speech';
import { SAMPLES_PER_MS, wordName } from './wordAudio.js';

const v1 = protos.google.cloud.speech.v1;
type StreamingRequest = protos.google.cloud.speech.v1.StreamingRecognizeRequest;
type StreamingResponse = protos.google.cloud.speech.v1.IStreamingRecognizeResponse;
type StreamingConfig = protos.google.cloud.speech.v1.IStreamingRecognitionConfig;
type WordInfo = protos.google.cloud.speech.v1.IWordInfo;

const speechService = {
  streamingRecognize: {
    path: '/google.cloud.speech.v1.Speech/StreamingRecognize',
    requestStream: true,
    responseStream: true,
    requestSerialize: (m: protos.google.cloud.speech.v1.IStreamingRecognizeRequest) => Buffer.from(v1.StreamingRecognizeRequest.encode(m).finish()),
    requestDeserialize: (b: Buffer): StreamingRequest => v1.StreamingRecognizeRequest.decode(b),
    responseSerialize: (m: StreamingResponse) => Buffer.from(v1.StreamingRecognizeResponse.encode(m).finish()),
    responseDeserialize: (b: Buffer) => v1.StreamingRecognizeResponse.decode(b),
  },
} satisfies grpc.ServiceDefinition;

export interface SpeechCallRecord {
  config: StreamingConfig | undefined;
  audioBytes: number;
  /** Words of every final this call sent, in order. */
  finalWords: string[];
  status: 'open' | 'ok' | 'out_of_range' | 'failed' | 'cancelled';
  metadata: grpc.Metadata;
}

export interface GoogleSpeechStandInOptions {
  /** Audio one call accepts before failing with OUT_OF_RANGE. Google: about 305 000 ms. */
  limitMs?: number;
  /** Silence that ends an utterance. */
  endpointMs?: number;
}

interface Word {
  value: number;
  startSample: number;
  endSample: number;
}

function duration(ms: number): protos.google.protobuf.IDuration {
  return { seconds: Math.floor(ms / 1000), nanos: Math.round((ms % 1000) * 1e6) };
}

export class GoogleSpeechStandIn {
  readonly calls: SpeechCallRecord[] = [];
  readonly #server = new grpc.Server();
  readonly #failures: { code: grpc.status; details: string }[] = [];
  readonly #limitSamples: number;
  readonly #endpointSamples: number;
  #port = 0;

  private constructor(opts: GoogleSpeechStandInOptions) {
    this.#limitSamples = (opts.limitMs ?? 305_000) * SAMPLES_PER_MS;
    this.#endpointSamples = (opts.endpointMs ?? 300) * SAMPLES_PER_MS;
    this.#server.addService(speechService, {
      streamingRecognize: (call: grpc.ServerDuplexStream<StreamingRequest, StreamingResponse>) => this.#handle(call),
    });
  }

  static async start(opts: GoogleSpeechStandInOptions = {}): Promise<GoogleSpeechStandIn> {
    const standIn = new GoogleSpeechStandIn(opts);
    standIn.#port = await new Promise<number>((resolve, reject) =>
      standIn.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return standIn;
  }

  get port(): number {
    return this.#port;
  }

  /** The next `times` calls fail with `code` as soon as their config arrives. */
  failNext(code: grpc.status, times = 1, details = `scripted ${grpc.status[code]}`): void {
    for (let i = 0; i < times; i++) this.#failures.push({ code, details });
  }

  close(): void {
    this.#server.forceShutdown();
  }

  #handle(call: grpc.ServerDuplexStream<StreamingRequest, StreamingResponse>): void {
    const rec: SpeechCallRecord = { config: undefined, audioBytes: 0, finalWords: [], status: 'open', metadata: call.metadata };
    this.calls.push(rec);
    let samples = 0;
    let runValue = 0;
    let runStart = 0;
    let utterance: Word[] = [];
    let done = false;

    const fail = (code: grpc.status, details: string, status: SpeechCallRecord['status']) => {
      if (done) return;
      done = true;
      rec.status = status;
      call.emit('error', { code, details });
    };
    const closeRun = (at: number) => {
      if (runValue !== 0 && at > runStart) utterance.push({ value: runValue, startSample: runStart, endSample: at });
    };
    const sendFinal = () => {
      if (utterance.length === 0) return;
      const withTimes = rec.config?.config?.enableWordTimeOffsets === true;
      const words: WordInfo[] = utterance.map((w) => ({
        word: wordName(w.value),
        ...(withTimes ? { startTime: duration(w.startSample / SAMPLES_PER_MS), endTime: duration(w.endSample / SAMPLES_PER_MS) } : {}),
        confidence: 0.9,
      }));
      const last = utterance[utterance.length - 1];
      const transcript = utterance.map((w) => wordName(w.value)).join(' ');
      rec.finalWords.push(...utterance.map((w) => wordName(w.value)));
      call.write({
        results: [{ alternatives: [{ transcript, confidence: 0.9, words }], isFinal: true, stability: 0, resultEndTime: duration((last?.endSample ?? 0) / SAMPLES_PER_MS) }],
      });
      utterance = [];
    };
    const sendInterim = () => {
      const words = utterance.map((w) => wordName(w.value));
      if (runValue !== 0) words.push(wordName(runValue));
      if (words.length === 0) return;
      call.write({
        results: [{ alternatives: [{ transcript: words.join(' ') }], isFinal: false, stability: 0.5, resultEndTime: duration(samples / SAMPLES_PER_MS) }],
      });
    };

    call.on('data', (req: StreamingRequest) => {
      if (done) return;
      if (req.streamingConfig) {
        if (rec.config) return fail(grpc.status.INVALID_ARGUMENT, 'streaming_config sent twice', 'failed');
        rec.config = req.streamingConfig;
        const scripted = this.#failures.shift();
        if (scripted) fail(scripted.code, scripted.details, 'failed');
        return;
      }
      if (!rec.config) return fail(grpc.status.INVALID_ARGUMENT, 'first message must carry streaming_config', 'failed');
      const content = req.audioContent;
      if (!(content instanceof Uint8Array) || content.length === 0) return;
      const audio = Buffer.from(content.buffer, content.byteOffset, content.length);
      if (audio.length > 25_600) return fail(grpc.status.INVALID_ARGUMENT, 'audio_content over 25 KB', 'failed');
      rec.audioBytes += audio.length;
      for (let i = 0; i + 1 < audio.length; i += 2) {
        if (samples >= this.#limitSamples) {
          return fail(grpc.status.OUT_OF_RANGE, `Exceeded maximum allowed stream duration of ${this.#limitSamples / SAMPLES_PER_MS / 1000} seconds.`, 'out_of_range');
        }
        const value = audio.readInt16LE(i);
        if (value !== runValue) {
          closeRun(samples);
          runValue = value;
          runStart = samples;
        }
        samples++;
        if (runValue === 0 && samples - runStart >= this.#endpointSamples) sendFinal();
      }
      if (rec.config.interimResults) sendInterim();
    });
    call.on('end', () => {
      if (done) return;
      done = true;
      closeRun(samples);
      runValue = 0;
      sendFinal();
      rec.status = 'ok';
      call.end();
    });
    call.on('cancelled', () => {
      if (!done) rec.status = 'cancelled';
      done = true;
    });
    call.on('error', () => {
      // A client reset after we failed the call; the record already says why.
    });
  }
}
