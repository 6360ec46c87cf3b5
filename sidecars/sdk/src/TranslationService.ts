import * as grpc from '@grpc/grpc-js';

import {
  loadContract,
  SERVICE_NAMES,
  type TranslateRequest__Output,
  type TranslateResponse,
  type Translation,
} from '../../../proto/src/index.js';
import { CancelledError, InternalError, PolyglotError } from '../../../core/src/errors.js';
import { toServiceError } from './grpcStatus.js';
import type { TranslatedText, TranslationEngine } from './TranslationEngine.js';
import { validateTranslateRequest } from './validation.js';
import type { WorkerService, WorkerServiceContext } from './WorkerService.js';

/** polyglot.v1.Translator over one TranslationEngine. */
export class TranslationService implements WorkerService {
  readonly kind = 'TRANSLATION';
  readonly serviceName = SERVICE_NAMES.Translator;
  readonly languages = [];
  readonly #engine: TranslationEngine;
  readonly #inFlight = new Set<AbortController>();

  constructor(engine: TranslationEngine) {
    if (engine.pairs.length === 0) throw new TypeError('createTranslationWorker: engine.pairs must list at least one pair');
    if (!Number.isInteger(engine.maxStreams) || engine.maxStreams < 0) {
      throw new TypeError(`createTranslationWorker: engine.maxStreams must be an integer >= 0 (got ${engine.maxStreams})`);
    }
    this.#engine = engine;
  }

  get engineName(): string {
    return this.#engine.name;
  }

  get pairs(): TranslationEngine['pairs'] {
    return this.#engine.pairs;
  }

  get maxStreams(): number {
    return this.#engine.maxStreams;
  }

  addTo(server: grpc.Server, { gate, log, observer }: WorkerServiceContext): void {
    server.addService(loadContract().Translator.service, {
      Translate: (
        call: grpc.ServerUnaryCall<TranslateRequest__Output, TranslateResponse>,
        callback: grpc.sendUnaryData<TranslateResponse>,
      ) => {
        const startedAt = performance.now();
        const abort = new AbortController();
        const onCancel = (): void => abort.abort(new CancelledError('the client cancelled the call'));
        call.once('cancelled', onCancel);
        this.#inFlight.add(abort);
        observer.safeEmit('callStarted', { method: 'Translate' });
        const finish = (err: unknown, response?: TranslateResponse): void => {
          call.off('cancelled', onCancel);
          this.#inFlight.delete(abort);
          const code = err === undefined ? grpc.status.OK : toServiceError(err).code;
          observer.safeEmit('callEnded', { method: 'Translate', code, durationMs: performance.now() - startedAt });
          if (err === undefined) callback(null, response);
          else {
            const status = toServiceError(err);
            if (status.code !== grpc.status.CANCELLED) {
              log.info({ code: grpc.status[status.code], details: status.details, requestId: call.request.requestId }, 'translate failed');
            }
            callback(status);
          }
        };
        let ticket: ReturnType<typeof gate.enter> | undefined;
        try {
          const validated = validateTranslateRequest(call.request, this.#engine.pairs);
          ticket = gate.enter();
          const admitted = ticket;
          const signal = AbortSignal.any([admitted.signal, abort.signal]);
          const pending = validated.engineRequest ? this.#engine.translate(validated.engineRequest, signal) : Promise.resolve([]);
          pending
            .then((translated) => {
              const results = assemble(call.request, validated.targets, validated.identityTargets, translated);
              observer.safeEmit('translated', {
                texts: call.request.texts.length,
                targets: validated.targets,
                characters: call.request.texts.reduce((sum, text) => sum + text.length, 0),
              });
              finish(undefined, { results });
            })
            // An engine that gives up on an aborted signal may throw anything; report why it was aborted.
            .catch((err: unknown) => finish(signal.aborted && !PolyglotError.is(err) ? signal.reason : err))
            .finally(() => admitted.release());
        } catch (err) {
          ticket?.release();
          finish(err);
        }
      },
    });
  }

  windDown(): void {
    // Translate calls are short: they finish on their own within the drain bound.
  }

  abortAll(reason: Error): void {
    for (const abort of this.#inFlight) abort.abort(reason);
  }

  closeEngine(): Promise<void> {
    return this.#engine.close();
  }
}

/**
 * Orders the engine's answers as the contract requires (target-major, then text index) and checks
 * that it answered every (text, target) exactly once: a call succeeds or fails as a whole.
 */
function assemble(
  request: TranslateRequest__Output,
  targets: readonly string[],
  identityTargets: ReadonlySet<string>,
  translated: readonly TranslatedText[],
): Translation[] {
  const byKey = new Map<string, TranslatedText>();
  for (const item of translated) {
    const key = `${item.target}\u0000${item.textIndex}`;
    if (byKey.has(key)) throw new InternalError(`engine answered text ${item.textIndex} -> ${item.target} twice`);
    byKey.set(key, item);
  }
  const results: Translation[] = [];
  for (const target of targets) {
    for (const [textIndex, text] of request.texts.entries()) {
      if (identityTargets.has(target)) {
        results.push({ textIndex, targetLanguage: target, text, engine: 'identity' });
        continue;
      }
      const item = byKey.get(`${target}\u0000${textIndex}`);
      if (!item) throw new InternalError(`engine gave no translation of text ${textIndex} into ${target}`);
      results.push({ textIndex, targetLanguage: target, text: item.text, engine: item.engine });
    }
  }
  if (byKey.size !== results.length - identityTargets.size * request.texts.length) {
    throw new InternalError('engine answered pairs that were not asked for');
  }
  return results;
}
