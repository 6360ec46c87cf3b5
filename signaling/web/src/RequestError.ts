import type { ErrorFrameCode } from '../../src/closeCodes.js';

/** A request the server answered with an error frame, or that could not be sent. */
export class RequestError extends Error {
  readonly code: ErrorFrameCode;
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorFrameCode, message: string, retryAfterMs?: number) {
    super(`${code}: ${message}`);
    this.name = 'RequestError';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}
