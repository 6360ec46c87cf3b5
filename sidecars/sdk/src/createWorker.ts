import { LanguageWorker, type WorkerOptions } from './LanguageWorker.js';
import type { SpeechEngine } from './SpeechEngine.js';
import { SpeechService } from './SpeechService.js';
import type { TranslationEngine } from './TranslationEngine.js';
import { TranslationService } from './TranslationService.js';

export interface SpeechWorkerOptions extends WorkerOptions {
  engine: SpeechEngine;
}

export interface TranslationWorkerOptions extends WorkerOptions {
  engine: TranslationEngine;
}

/**
 * Serves `engine` as a speech-to-text worker: polyglot.v1.SpeechToText (config checked, audio
 * checked, RESOURCE_EXHAUSTED beyond maxStreams), Worker.Describe, grpc.health.v1, registry
 * announcements, /metrics and /healthz. Resolves once the worker is SERVING and announced.
 */
export function createSpeechWorker({ engine, ...options }: SpeechWorkerOptions): Promise<LanguageWorker> {
  return LanguageWorker.start(new SpeechService(engine), options);
}

/** Serves `engine` as a translation worker; see createSpeechWorker. */
export function createTranslationWorker({ engine, ...options }: TranslationWorkerOptions): Promise<LanguageWorker> {
  return LanguageWorker.start(new TranslationService(engine), options);
}
