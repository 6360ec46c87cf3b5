import { CancelledError } from '../../../core/src/errors.js';

/**
 * Settles with `work`, or rejects with CancelledError as soon as `signal` aborts: for engines whose
 * provider client takes no AbortSignal (deepl-node, Google's unary calls). The abandoned request
 * runs on to its own timeout with its result ignored.
 */
export async function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw new CancelledError('translate aborted', signal.reason);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new CancelledError('translate aborted', signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // The abandoned request may still fail later; that rejection must not become unhandled.
  work.catch(() => {});
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
