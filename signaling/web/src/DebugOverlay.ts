import type { Caption } from './Transcript.js';

/** One final's measured delays, in ms (this browser's clock against the pipeline's). */
export interface FinalDelay {
  seq: number;
  /** audioEndAt -> received: from the end of the speech to this page. */
  speechMs: number;
  /** publishedAt -> received: from the pipeline's publish to this page (NATS + signaling + network). */
  deliveryMs: number;
}

const KEEP = 200;
const ROWS = 8;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/**
 * The measured delay of each live final, shown in a corner when enabled (#debug in the address,
 * or the "d" key): the last few finals and p50/p95 over the last 200. Replayed history is not
 * measured (its delay is the time since it was said).
 */
export class DebugOverlay {
  readonly #root: HTMLElement;
  readonly #delays: FinalDelay[] = [];
  #context = '';

  constructor(root: HTMLElement, enabled: boolean) {
    this.#root = root;
    this.#root.hidden = !enabled;
  }

  get enabled(): boolean {
    return !this.#root.hidden;
  }

  get delays(): readonly FinalDelay[] {
    return this.#delays;
  }

  toggle(): void {
    this.#root.hidden = !this.#root.hidden;
    this.#render();
  }

  /** Connection facts shown in the header line (language, last seq, state). */
  setContext(text: string): void {
    this.#context = text;
    this.#render();
  }

  record(caption: Caption, receivedAt: number): FinalDelay {
    const delay = { seq: caption.seq, speechMs: receivedAt - caption.audioEndAt, deliveryMs: receivedAt - caption.publishedAt };
    this.#delays.push(delay);
    if (this.#delays.length > KEEP) this.#delays.shift();
    this.#render();
    return delay;
  }

  #render(): void {
    if (this.#root.hidden) return;
    const speech = this.#delays.map((d) => d.speechMs).sort((a, b) => a - b);
    const delivery = this.#delays.map((d) => d.deliveryMs).sort((a, b) => a - b);
    const fmt = (ms: number): string => (Number.isFinite(ms) ? `${Math.round(ms)}` : '–');
    const lines = [
      this.#context,
      `finals ${this.#delays.length}: speech end→now p50 ${fmt(percentile(speech, 0.5))} p95 ${fmt(percentile(speech, 0.95))} ms;` +
        ` publish→now p50 ${fmt(percentile(delivery, 0.5))} p95 ${fmt(percentile(delivery, 0.95))} ms`,
      'seq    speech end→now   publish→now',
      ...this.#delays
        .slice(-ROWS)
        .reverse()
        .map((d) => `${String(d.seq).padEnd(6)} ${fmt(d.speechMs).padStart(10)} ms ${fmt(d.deliveryMs).padStart(10)} ms`),
    ];
    this.#root.textContent = lines.join('\n');
  }
}
