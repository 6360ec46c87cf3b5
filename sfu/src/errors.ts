/**
 * The SFU's error classes. Each carries the wire code it travels as in an RPC error reply
 * (rpc/protocol.ts `ErrorCode`); SfuClient turns a reply's code back into the same class, so a
 * caller on the far side of NATS branches on the class exactly as an in-process caller would.
 */
const SFU_ERROR = Symbol.for('polyglot.SfuError');

export type SfuErrorCode = 'invalid_argument' | 'not_found' | 'invalid_state' | 'unavailable' | 'timeout' | 'internal';

export class SfuError extends Error {
  readonly retryable: boolean;
  readonly code: SfuErrorCode;
  readonly [SFU_ERROR] = true;

  constructor(message: string, opts: { code: SfuErrorCode; retryable: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.retryable = opts.retryable;
  }

  /** Brand check that survives duplicate copies of this module, where instanceof fails. */
  static is(err: unknown): err is SfuError {
    return typeof err === 'object' && err !== null && SFU_ERROR in err;
  }
}

/** A malformed request, or parameters mediasoup rejects (bad RTP parameters, unknown codec). */
export class InvalidArgumentError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'invalid_argument', retryable: false, cause });
  }
}

/** No such session, transport, producer or consumer on this node. */
export class NotFoundError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'not_found', retryable: false, cause });
  }
}

/** The object is closed, or the call does not fit its state (a second connect of a transport). */
export class InvalidStateError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'invalid_state', retryable: false, cause });
  }
}

/** The node is draining or has no live worker: retry, ideally on another node (ask placement again). */
export class UnavailableError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'unavailable', retryable: true, cause });
  }
}

/** No reply within the caller's deadline. */
export class RpcTimeoutError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'timeout', retryable: true, cause });
  }
}

/** Anything else; the message is safe to show, the cause stays on the node that logged it. */
export class InternalError extends SfuError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'internal', retryable: false, cause });
  }
}
