import type { NatsConnection } from 'nats';
import { ErrorCode, NatsError } from 'nats';
import { InvalidStateError, TimeoutError, UnavailableError } from '../errors.js';
import { SFU_PLACE_SUBJECT, sfuRpcSubject } from '../subjects.js';
import { decodeRpcReply, encode, type PlaceResult, type RpcMethod, type RpcParams, type RpcResult } from './rpcProtocol.js';

export interface SfuClientOptions {
  nc: NatsConnection;
  /** Per request; an SFU answers in milliseconds, so a long wait means it is gone. */
  timeoutMs?: number;
}

export const DEFAULT_SFU_TIMEOUT_MS = 5_000;

/**
 * Typed request/reply to SFU nodes over NATS (rpcProtocol.ts). Errors come back as core's classes
 * (core/src/errors.ts): InvalidArgumentError, NotFoundError, InvalidStateError, UnavailableError
 * (also when no SFU node listens), TimeoutError, InternalError. It never retries: the caller
 * knows whether a request is safe to repeat (placement is; produce is not).
 */
export class SfuClient {
  readonly #nc: NatsConnection;
  readonly #timeoutMs: number;
  #closed = false;

  constructor({ nc, timeoutMs = DEFAULT_SFU_TIMEOUT_MS }: SfuClientOptions) {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`timeoutMs must be > 0, got ${timeoutMs}`);
    this.#nc = nc;
    this.#timeoutMs = timeoutMs;
  }

  /** Which SFU node serves `session` (the same answer for every caller while that node lives). */
  async place(session: string): Promise<PlaceResult> {
    const data = await this.#send(SFU_PLACE_SUBJECT, encode({ session }), 'place');
    return decodeRpcReply('place', data);
  }

  async request<M extends RpcMethod>(node: string, method: M, params: RpcParams<M>): Promise<RpcResult<M>> {
    const data = await this.#send(sfuRpcSubject(node), encode({ method, params }), method);
    return decodeRpcReply(method, data);
  }

  /** Later requests reject with InvalidStateError; the NATS connection belongs to the caller. */
  close(): void {
    this.#closed = true;
  }

  async #send(subject: string, body: Uint8Array, what: string): Promise<Uint8Array> {
    if (this.#closed) throw new InvalidStateError('SfuClient closed');
    try {
      const msg = await this.#nc.request(subject, body, { timeout: this.#timeoutMs });
      return msg.data;
    } catch (err) {
      if (err instanceof NatsError && err.code === ErrorCode.NoResponders) {
        throw new UnavailableError(`${what}: no SFU listens on ${subject}`, err);
      }
      if (err instanceof NatsError && err.code === ErrorCode.Timeout) {
        throw new TimeoutError(`${what}: no reply on ${subject} within ${this.#timeoutMs} ms`, err);
      }
      throw new UnavailableError(`${what}: ${subject}: ${err instanceof Error ? err.message : String(err)}`, err);
    }
  }
}
