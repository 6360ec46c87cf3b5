import { pino, type Logger } from 'pino';

/**
 * The process-wide root logger: JSON lines on stdout. Its level comes from PC_LOG_LEVEL, read here
 * rather than through the config module because the logger must exist to report a bad config.
 */
export const rootLog: Logger = pino({
  level: process.env.PC_LOG_LEVEL ?? 'info',
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** One logger per module: `const log = moduleLog('PostgresServer')`; bind ids per instance with child(). */
export function moduleLog(module: string): Logger {
  return rootLog.child({ module });
}
