import type * as grpc from '@grpc/grpc-js';

import { loadContract, SERVICE_NAMES, type AudioRequest__Output, type RecognitionEvent } from '../../../proto/src/index.js';
import { RecognizeCall } from './RecognizeCall.js';
import type { SpeechEngine } from './SpeechEngine.js';
import type { WorkerService, WorkerServiceContext } from './WorkerService.js';

let nextCallId = 1;

/** polyglot.v1.SpeechToText over one SpeechEngine: one RecognizeCall per StreamingRecognize. */
export class SpeechService implements WorkerService {
  readonly kind = 'SPEECH_TO_TEXT';
  readonly serviceName = SERVICE_NAMES.SpeechToText;
  readonly pairs = [];
  readonly #engine: SpeechEngine;
  readonly #calls = new Set<RecognizeCall>();
  #windingDown = false;

  constructor(engine: SpeechEngine) {
    if (engine.languages.length === 0) throw new TypeError('createSpeechWorker: engine.languages must list at least one BCP-47 tag');
    if (!Number.isInteger(engine.maxStreams) || engine.maxStreams < 0) {
      throw new TypeError(`createSpeechWorker: engine.maxStreams must be an integer >= 0 (got ${engine.maxStreams})`);
    }
    this.#engine = engine;
  }

  get engineName(): string {
    return this.#engine.name;
  }

  get languages(): readonly string[] {
    return this.#engine.languages;
  }

  get maxStreams(): number {
    return this.#engine.maxStreams;
  }

  addTo(server: grpc.Server, { gate, log, observer }: WorkerServiceContext): void {
    server.addService(loadContract().SpeechToText.service, {
      StreamingRecognize: (call: grpc.ServerDuplexStream<AudioRequest__Output, RecognitionEvent>) => {
        const recognizeCall = new RecognizeCall({ call, engine: this.#engine, gate, log: log.child({ call: nextCallId++ }), observer });
        this.#calls.add(recognizeCall);
        recognizeCall.once('@close', () => this.#calls.delete(recognizeCall));
        if (this.#windingDown) recognizeCall.windDown();
      },
    });
  }

  windDown(): void {
    this.#windingDown = true;
    for (const call of this.#calls) call.windDown();
  }

  abortAll(reason: Error): void {
    for (const call of [...this.#calls]) call.abort(reason);
  }

  closeEngine(): Promise<void> {
    return this.#engine.close();
  }
}
