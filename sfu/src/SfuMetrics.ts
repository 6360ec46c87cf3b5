import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MediaWorkerPool } from './MediaWorkerPool.js';
import type { SfuNode } from './SfuNode.js';

export interface SfuMetricsOptions {
  node: SfuNode;
  pool: MediaWorkerPool;
  /** Node.js process metrics (event loop lag, heap); off in tests that run several nodes in one process. */
  processMetrics?: boolean;
}

/**
 * Prometheus metrics of one SFU process, fed only by observers (never by the code paths they
 * measure). Gauges are read at scrape time.
 */
export class SfuMetrics {
  readonly registry = new Registry();

  constructor({ node, pool, processMetrics = true }: SfuMetricsOptions) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ node: node.node });
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'pc_sfu_' });

    const rpcs = new Counter({ name: 'pc_sfu_rpc_total', help: 'RPC and placement requests by method and reply code', labelNames: ['method', 'code'], registers });
    const rpcSeconds = new Histogram({
      name: 'pc_sfu_rpc_duration_seconds',
      help: 'Time from receiving a request to sending its reply',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    node.observer.on('rpc', ({ method, code, ms }) => {
      rpcs.inc({ method, code });
      rpcSeconds.observe({ method }, ms / 1000);
    });

    const deaths = new Counter({ name: 'pc_sfu_worker_deaths_total', help: 'mediasoup workers that died (and were replaced)', registers });
    pool.observer.on('workerdied', () => deaths.inc());

    const pipes = new Counter({ name: 'pc_sfu_pipes_total', help: 'Producers piped to a viewer router on another worker', registers });
    node.observer.on('newsession', (media) => media.observer.on('pipe', () => pipes.inc()));

    new Gauge({ name: 'pc_sfu_workers', help: 'Live mediasoup workers', registers, collect() { this.set(pool.size); } });
    new Gauge({ name: 'pc_sfu_sessions', help: 'Sessions with media on this node', registers, collect() { this.set(node.load.sessions); } });
    new Gauge({ name: 'pc_sfu_routers', help: 'Routers (origin and viewer) on this node', registers, collect() { this.set(node.load.routers); } });
    new Gauge({
      name: 'pc_sfu_worker_consumers',
      help: 'Consumers per mediasoup worker (the load piping spreads)',
      labelNames: ['pid'],
      registers,
      collect() {
        this.reset();
        for (const { pid, consumers } of pool.loads()) this.set({ pid: String(pid) }, consumers);
      },
    });
    const refusals = new Counter({
      name: 'pc_sfu_media_limit_refusals_total',
      help: 'Transport and consumer requests refused by a media bound (quota_exceeded), by bound',
      labelNames: ['limit'],
      registers,
    });
    node.quota.observer.on('refused', ({ limit }) => refusals.inc({ limit }));
    new Gauge({ name: 'pc_sfu_transports', help: 'WebRTC and plain transports open (each holds one RTC port)', registers, collect() { this.set(node.quota.transports); } });
    const limits = node.quota.limits;
    new Gauge({
      name: 'pc_sfu_media_limit',
      help: 'The configured media bounds',
      labelNames: ['limit'],
      registers,
      collect() {
        this.set({ limit: 'send_transports_per_peer' }, limits.sendTransportsPerPeer);
        this.set({ limit: 'recv_transports_per_peer' }, limits.recvTransportsPerPeer);
        this.set({ limit: 'consumers_per_peer' }, limits.consumersPerPeer);
        this.set({ limit: 'transports_per_session' }, limits.transportsPerSession);
        this.set({ limit: 'transports_per_node' }, limits.transportsPerNode);
      },
    });
    new Gauge({ name: 'pc_sfu_draining', help: '1 while the node shuts down', registers, collect() { this.set(node.draining ? 1 : 0); } });
  }
}
