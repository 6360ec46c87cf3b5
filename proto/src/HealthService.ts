import type * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

import type { PolyglotServiceName } from './loadContract.js';

/** What a worker reports through grpc.health.v1. */
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface HealthServiceOptions {
  /** Contract services the server implements; each gets its own health status. */
  readonly services: readonly PolyglotServiceName[];
  /**
   * Status of every service until `setStatus`. Defaults to NOT_SERVING, so a worker draws no
   * calls before its engine is ready.
   */
  readonly initialStatus?: ServingStatus;
}

/**
 * The standard grpc.health.v1.Health service for a worker, limited to the contract's service
 * names. The server-wide status (service name "") is derived, never set: it is SERVING only
 * while every listed service is, because callers route on it alone.
 */
export class HealthService {
  readonly #health: HealthImplementation;
  readonly #statuses: Map<PolyglotServiceName, ServingStatus>;

  constructor({ services, initialStatus = 'NOT_SERVING' }: HealthServiceOptions) {
    if (services.length === 0) throw new TypeError('HealthService: options.services must name at least one service');
    this.#statuses = new Map(services.map((service) => [service, initialStatus]));
    this.#health = new HealthImplementation({ ...Object.fromEntries(this.#statuses), '': initialStatus });
  }

  /** Registers grpc.health.v1.Health on `server`; call once, before the server starts. */
  addToServer(server: grpc.Server): void {
    this.#health.addToServer(server);
  }

  /**
   * Sets one service's status, or every service's when `service` is omitted (the usual case:
   * one engine backs all of a worker's services). Watchers are notified of each change.
   */
  setStatus(status: ServingStatus, service?: PolyglotServiceName): void {
    if (service !== undefined && !this.#statuses.has(service)) {
      throw new TypeError(`HealthService: ${service} is not in options.services`);
    }
    const overallBefore = this.getStatus();
    for (const name of service === undefined ? [...this.#statuses.keys()] : [service]) {
      // Watch streams get a message per setStatus, and the health protocol promises one per change.
      if (this.#statuses.get(name) === status) continue;
      this.#statuses.set(name, status);
      this.#health.setStatus(name, status);
    }
    const overall = this.getStatus();
    if (overall !== overallBefore) this.#health.setStatus('', overall);
  }

  /** Status of `service`, or the server-wide status when omitted. */
  getStatus(service?: PolyglotServiceName): ServingStatus {
    if (service === undefined) {
      return [...this.#statuses.values()].every((status) => status === 'SERVING') ? 'SERVING' : 'NOT_SERVING';
    }
    const status = this.#statuses.get(service);
    if (status === undefined) throw new TypeError(`HealthService: ${service} is not in options.services`);
    return status;
  }
}
