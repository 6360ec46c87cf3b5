import type { Logger } from 'pino';

export interface GracefulShutdownOptions {
  log: Logger;
  /** Past this bound the process exits 1 with whatever is left. */
  timeoutMs: number;
  /** Stops accepting work, drains, closes. Runs once, on the first SIGTERM or SIGINT. */
  stop: (signal: NodeJS.Signals) => Promise<void>;
}

/** Wires SIGTERM/SIGINT to a bounded, run-once drain, then exits 0 (or 1 when the drain fails or overruns). */
export function onShutdownSignal({ log, timeoutMs, stop }: GracefulShutdownOptions): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs }, 'shutting down');
    const forced = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown exceeded its bound; exiting anyway');
      process.exit(1);
    }, timeoutMs);
    stop(signal).then(
      () => {
        clearTimeout(forced);
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle).on('SIGINT', handle);
}
