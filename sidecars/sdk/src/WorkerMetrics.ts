import * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { SafeEmitter } from '../../../core/src/events.js';
import type { WorkerObserverEvents } from './LanguageWorker.js';

export interface WorkerMetricsOptions {
  observer: SafeEmitter<WorkerObserverEvents>;
  /** Bound to every series, so one dashboard covers every worker. */
  labels: { worker: string; engine: string; kind: string };
  activeCalls: () => number;
  maxCalls: number;
  serving: () => boolean;
}

/**
 * Prometheus metrics of one worker, in a registry of its own (several workers can share a test
 * process). Fed only by the worker's observer, never by the request path.
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  constructor({ observer, labels, activeCalls, maxCalls, serving }: WorkerMetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry });

    const calls = new Counter({
      name: 'pc_worker_calls_total',
      help: 'Calls ended, by method and gRPC status code.',
      labelNames: ['method', 'code'] as const,
      registers,
    });
    const duration = new Histogram({
      name: 'pc_worker_call_duration_seconds',
      help: 'Duration of calls (a speech stream lasts as long as its audio).',
      labelNames: ['method'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 300],
      registers,
    });
    new Gauge({ name: 'pc_worker_active_calls', help: 'Calls in flight.', registers, collect() { this.set(activeCalls()); } });
    new Gauge({ name: 'pc_worker_max_calls', help: 'Calls served at once before RESOURCE_EXHAUSTED (0: no limit).', registers }).set(maxCalls);
    new Gauge({ name: 'pc_worker_serving', help: '1 while grpc.health reports SERVING.', registers, collect() { this.set(serving() ? 1 : 0); } });
    const announcements = new Counter({ name: 'pc_worker_announcements_total', help: 'Registry announcements published.', registers });
    const audio = new Counter({ name: 'pc_stt_audio_seconds_total', help: 'Seconds of audio received.', registers });
    const results = new Counter({ name: 'pc_stt_results_total', help: 'Recognition results sent, by type.', labelNames: ['type'] as const, registers });
    const texts = new Counter({ name: 'pc_mt_texts_total', help: 'Texts translated, by target language.', labelNames: ['target'] as const, registers });
    const characters = new Counter({ name: 'pc_mt_characters_total', help: 'Characters translated, counted once per target.', registers });

    observer.on('callEnded', ({ method, code, durationMs }) => {
      calls.inc({ method, code: grpc.status[code] });
      duration.observe({ method }, durationMs / 1000);
    });
    observer.on('announced', () => announcements.inc());
    observer.on('audioReceived', ({ bytes }) => audio.inc(bytes / 32_000));
    observer.on('recognition', ({ isFinal }) => results.inc({ type: isFinal ? 'final' : 'interim' }));
    observer.on('translated', ({ texts: n, targets, characters: chars }) => {
      for (const target of targets) texts.inc({ target }, n);
      characters.inc(chars * targets.length);
    });
  }
}
