#!/usr/bin/env node
/**
 * The history process: final captions from JetStream into Postgres (HistoryWriter), and the
 * monthly partitions kept ahead, archived and dropped past the retention window.
 */
import { connect } from 'nats';
import { natsConnectOptions } from '../../../core/src/natsConnectOptions.js';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { DEFAULT_CAPTION_STREAM, ensureCaptionStream } from '../../../core/src/captions/captionStream.js';
import { parseConfig } from '../../../core/src/config.js';
import { moduleLog } from '../../../core/src/log.js';
import { OpsServer } from '../../../core/src/process/OpsServer.js';
import { onShutdownSignal } from '../../../core/src/process/shutdown.js';
import { gzipJsonLinesArchive } from '../archive.js';
import { createDb } from '../createDb.js';
import { dropExpiredPartitions, ensurePartitions } from '../partitions.js';
import { HistoryWriter } from './HistoryWriter.js';

const MAINTENANCE_INTERVAL_MS = 6 * 3_600_000;
const log = moduleLog('history');

const cfg = parseConfig(process.env);
const registry = new Registry();
collectDefaultMetrics({ register: registry });
// Reconnect for as long as it takes: by default nats.js gives up after about 20 s, and the writer would stop for good.
const nc = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: 'history', maxReconnectAttempts: -1 });
const jsm = await nc.jetstreamManager();
await ensureCaptionStream(jsm, { ...DEFAULT_CAPTION_STREAM, maxAgeMs: cfg.captionRetentionMs });
const db = createDb({ url: cfg.database.url, poolMax: cfg.database.poolMax, applicationName: 'history' });

async function maintainPartitions(): Promise<void> {
  await ensurePartitions(db, { monthsAhead: cfg.history.partitionMonthsAhead });
  const dropped = await dropExpiredPartitions(db, { retentionDays: cfg.history.retentionDays, archive: gzipJsonLinesArchive(cfg.history.archiveDir) });
  if (dropped.length > 0) log.info({ dropped }, 'expired partitions archived and dropped');
}
await maintainPartitions();
const maintenance = setInterval(() => {
  maintainPartitions().catch((err: unknown) => log.error({ err }, 'partition maintenance failed; retrying at the next interval'));
}, MAINTENANCE_INTERVAL_MS);

const writer = new HistoryWriter({ js: nc.jetstream(), jsm, db, log, registry });
await writer.start();
const ops = await OpsServer.start({
  host: '127.0.0.1',
  port: cfg.history.metricsPort,
  registry,
  health: () => ({ ok: !nc.isClosed(), nats: nc.isClosed() ? 'closed' : 'connected' }),
  log,
});
log.info({ metricsPort: ops.port }, 'history writer ready');

onShutdownSignal({
  log,
  timeoutMs: 15_000,
  stop: async () => {
    clearInterval(maintenance);
    await writer.close();
    await nc.drain();
    await db.destroy();
    await ops.close();
  },
});
