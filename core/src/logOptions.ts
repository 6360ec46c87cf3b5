import { pino, type LoggerOptions } from 'pino';
import { LOG_REDACT_PATHS } from './secrets.js';

/** Every process's logger settings: JSON lines, ISO time, and credentials redacted (secrets.ts). */
export function logOptions(level: string): LoggerOptions {
  return {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...LOG_REDACT_PATHS], censor: '[redacted]' },
  };
}
