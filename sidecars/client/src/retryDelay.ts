/**
 * The wait before retry `retry` (0-based) of an engine call: exponential with "equal jitter", drawn
 * from [cap/2, cap), cap = min(maxDelayMs, baseDelayMs * 2^retry). Half of each step is fixed and
 * half random, so clients that failed together spread out but none retries at once. `random` is
 * injectable.
 */
export function retryDelayMs(retry: number, opts: { baseDelayMs: number; maxDelayMs: number }, random: () => number = Math.random): number {
  const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** retry);
  return cap / 2 + random() * (cap / 2);
}
