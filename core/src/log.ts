import { pino, type Logger } from 'pino';
import { logOptions } from './logOptions.js';

/**
 * The process-wide root logger: JSON lines on stdout. Its level comes from PC_LOG_LEVEL, read here
 * rather than through the config module because the logger must exist to report a bad config.
 */
export const rootLog: Logger = pino(logOptions(process.env.PC_LOG_LEVEL ?? 'info'));

/** One logger per module: `const log = moduleLog('PostgresServer')`; bind ids per instance with child(). */
export function moduleLog(module: string): Logger {
  return rootLog.child({ module });
}
