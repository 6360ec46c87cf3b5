import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from './Hub.js';

/**
 * The signaling node's Prometheus metrics, fed from the hub's observer (never from control flow).
 * `pc_signaling_connections` against PC_MAX_CONNECTIONS is the autoscaling signal of seed C-5.
 */
export function createSignalingMetrics(hub: Hub, opts: { maxConnections: number; nodeId: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node: opts.nodeId });
  collectDefaultMetrics({ register: registry });

  new Gauge({ name: 'pc_signaling_connections', help: 'Open WebSocket connections on this node', registers: [registry], collect() {
    this.set(hub.size);
  } });
  new Gauge({ name: 'pc_signaling_connections_max', help: 'PC_MAX_CONNECTIONS of this node', registers: [registry] }).set(opts.maxConnections);
  new Gauge({ name: 'pc_signaling_draining', help: '1 while this node drains for shutdown', registers: [registry], collect() {
    this.set(hub.draining ? 1 : 0);
  } });
  const rooms = new Gauge({ name: 'pc_signaling_sessions', help: 'Sessions with at least one socket on this node', registers: [registry] });
  const opened = new Counter({ name: 'pc_signaling_connections_opened_total', help: 'WebSocket connections accepted', registers: [registry] });
  const closed = new Counter({ name: 'pc_signaling_connections_closed_total', help: 'WebSocket connections closed, by close code', labelNames: ['code'], registers: [registry] });
  const authenticated = new Counter({ name: 'pc_signaling_authenticated_total', help: 'Sockets authenticated, by role', labelNames: ['role'], registers: [registry] });
  const messages = new Counter({ name: 'pc_signaling_messages_total', help: 'Client messages decoded, by type', labelNames: ['type'], registers: [registry] });
  const errors = new Counter({ name: 'pc_signaling_error_frames_total', help: 'Error frames sent, by code', labelNames: ['code'], registers: [registry] });
  const closing = new Counter({ name: 'pc_signaling_closes_initiated_total', help: 'Sockets this node closed, by close code', labelNames: ['code'], registers: [registry] });
  const rateLimited = new Counter({ name: 'pc_signaling_rate_limited_total', help: 'Messages dropped by the per-socket rate limiter', registers: [registry] });

  hub.observer.on('connectionOpened', () => opened.inc());
  hub.observer.on('connectionClosed', (code) => closed.inc({ code: String(code) }));
  hub.observer.on('authenticated', (role) => authenticated.inc({ role }));
  hub.observer.on('message', (type) => messages.inc({ type }));
  hub.observer.on('errorFrame', (code) => errors.inc({ code }));
  hub.observer.on('closing', (code) => closing.inc({ code: String(code) }));
  hub.observer.on('rateLimited', () => rateLimited.inc());
  hub.observer.on('rooms', (count) => rooms.set(count));

  // Captions. Every live caption written to a socket is one observation: the histogram is the
  // node's share of caption latency, from the pipeline's publish to the hand-over to ws.
  const delivery = new Histogram({
    name: 'pc_signaling_caption_delivery_seconds',
    help: 'Live captions: publishedAt (pipeline) to ws.send on this node, per socket written, by kind',
    labelNames: ['kind'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const finalDelivery = delivery.labels('final');
  const interimDelivery = delivery.labels('interim');
  const encoded = new Counter({
    name: 'pc_signaling_captions_encoded_total',
    help: 'Captions serialized into a WebSocket frame: once per live caption per node, once per socket for a replayed final',
    labelNames: ['kind', 'source'],
    registers: [registry],
  });
  const dropped = new Counter({ name: 'pc_signaling_interims_dropped_total', help: 'Interim captions dropped for a slow socket (a newer one replaced it)', registers: [registry] });
  const slow = new Counter({ name: 'pc_signaling_slow_consumer_closes_total', help: 'Sockets closed (4408) because their final-caption backlog passed the bound', registers: [registry] });
  const replays = new Counter({ name: 'pc_signaling_caption_replays_total', help: 'Resuming sockets served their missed finals, by source (memory, stream)', labelNames: ['from'], registers: [registry] });
  const channels = new Gauge({ name: 'pc_signaling_caption_channels', help: 'Open (session, language) caption subscriptions on this node', registers: [registry] });
  const captions = hub.captionObserver;
  captions.on('written', (final, delayMs) => (final ? finalDelivery : interimDelivery).observe(Math.max(0, delayMs) / 1000));
  captions.on('encoded', (final, source) => encoded.inc({ kind: final ? 'final' : 'interim', source }));
  captions.on('interimDropped', () => dropped.inc());
  captions.on('slowConsumer', () => slow.inc());
  captions.on('replay', (from) => replays.inc({ from }));
  captions.on('channel', (delta) => channels.inc(delta));
  return registry;
}

/** HTTP request metrics, observed by SignalingServer. */
export function createHttpMetrics(registry: Registry): { rejectedUpgrades: Counter<'reason'>; requests: Histogram<'route' | 'status'> } {
  return {
    rejectedUpgrades: new Counter({
      name: 'pc_signaling_upgrades_rejected_total',
      help: 'WebSocket upgrades refused, by reason (connection limit, draining, bad path)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'pc_signaling_http_request_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
