/** Retry and timeout knobs of one engine call, grouped (STYLE §7). */
export interface EngineCallOptions {
  /** Deadline of each attempt. */
  timeoutMs: number;
  /** Extra attempts after the first, for retryable errors only. */
  maxRetries: number;
  /** Backoff before retry n (0-based) is drawn from [cap/2, cap), cap = min(maxDelayMs, baseDelayMs * 2^n). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_ENGINE_CALL: EngineCallOptions = { timeoutMs: 2_000, maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000 };

/**
 * Exponential backoff with "equal jitter": half of the exponential step is fixed, half random, so
 * clients that failed together spread out but none retries at once. `random` is injectable.
 */
export function backoffDelayMs(retry: number, opts: Pick<EngineCallOptions, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retry);
  return cap / 2 + random() * (cap / 2);
}
