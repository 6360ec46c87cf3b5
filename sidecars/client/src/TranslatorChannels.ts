import * as grpc from '@grpc/grpc-js';
import { loadContract, type TranslatorClient } from '../../../proto/src/index.js';

/** Channel settings of every worker connection. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Keep idle connections alive through NATs and load balancers, and notice dead ones, without
  // pinging so often that a server answers GOAWAY too_many_pings.
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // A worker that went away is retried with backoff by grpc-js; cap it so a returning worker is found quickly.
  'grpc.max_reconnect_backoff_ms': 5_000,
};

/**
 * One gRPC client (one HTTP/2 channel) per worker address, created on first use and reused for
 * every later call (S-1): no connection setup on the translation path once warm. grpc-js
 * reconnects a broken channel on its own.
 */
export class TranslatorChannels {
  readonly #clients = new Map<string, TranslatorClient>();
  readonly #credentials: grpc.ChannelCredentials;
  #closed = false;

  constructor(credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.#credentials = credentials;
  }

  /** `tls`: the worker's TLS credentials (WorkerInfo.credentials); without, the channels' own. */
  get(address: string, tls?: grpc.ChannelCredentials): TranslatorClient {
    if (this.#closed) throw new Error('TranslatorChannels closed');
    // A worker that restarts with TLS on the same address gets a new channel, not the plaintext one.
    const key = `${tls ? 'tls' : 'plain'}:${address}`;
    let client = this.#clients.get(key);
    if (client === undefined) {
      const { Translator } = loadContract();
      client = new Translator.Client(address, tls ?? this.#credentials, CHANNEL_OPTIONS);
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Closes the channels to a worker that left the registry. */
  forget(address: string): void {
    for (const key of [`tls:${address}`, `plain:${address}`]) {
      this.#clients.get(key)?.close();
      this.#clients.delete(key);
    }
  }

  get sizeForTesting(): number {
    return this.#clients.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
