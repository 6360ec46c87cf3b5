/**
 * Reconnect delays for clients (the web pages import this): exponential backoff with full jitter,
 * so thousands of viewers dropped at once by a node do not come back at the same instant.
 * Browser-safe: no node imports.
 */
export interface ReconnectDelayOptions {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RECONNECT_DELAY: ReconnectDelayOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): uniform in
 * [0, min(maxMs, baseMs * 2^attempt)). `random` returns [0, 1), injectable for tests.
 */
export function reconnectDelayMs(attempt: number, opts: ReconnectDelayOptions = DEFAULT_RECONNECT_DELAY, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.floor(random() * ceiling);
}
