#!/usr/bin/env node
/**
 * The SFU process: mediasoup workers, the NATS RPC server of core/src/sfu/rpcProtocol.ts,
 * Prometheus metrics and /healthz. SIGTERM (or SIGINT) drains: leave the RPC queue groups, goaway, sessionClosed
 * {reason:'shutdown'} for every session, close the workers, exit 0, all within
 * PC_SFU_SHUTDOWN_TIMEOUT_MS (past it: exit 1 with whatever is left killed).
 */
import * as mediasoup from 'mediasoup';
import { connect } from 'nats';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { ConfigError, parseConfig } from '../../core/src/config.js';
import { moduleLog, rootLog } from '../../core/src/log.js';
import { OpsServer } from '../../core/src/process/OpsServer.js';
import { onShutdownSignal } from '../../core/src/process/shutdown.js';
import { parseSfuConfig } from './config.js';
import { MediaWorkerPool } from './MediaWorkerPool.js';
import { SfuMetrics } from './SfuMetrics.js';
import { SfuNode } from './SfuNode.js';
import { SessionGate } from './SessionGate.js';
import { createDb } from '../../sql/src/index.js';
import { CaptionService } from './captions/CaptionService.js';
import { parseTranslationClientEnv } from '../../sidecars/client/src/index.js';
import { workerBinary } from './workerBinary.js';

const log = moduleLog('sfu');

async function main(): Promise<void> {
  const cfg = parseConfig(process.env);
  const sfuCfg = parseSfuConfig(process.env);

  const mediasoupLog = moduleLog('mediasoup');
  mediasoup.setLogEventListeners({
    onwarn: (namespace, message) => mediasoupLog.warn({ namespace }, message),
    onerror: (namespace, message, err) => mediasoupLog.error({ namespace, err }, message),
  });

  // Reconnect for as long as it takes (as signaling does): nats.js gives up after 10 attempts (about
  // 20 s) by default, and a NATS restart longer than that would end captions until this process restarts.
  const nc = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: `sfu-${sfuCfg.nodeId}`, maxReconnectAttempts: -1 });
  const pool = await MediaWorkerPool.create({ workerBin: workerBinary(cfg), size: sfuCfg.workers });
  const gateDb = createDb({ url: cfg.database.url, poolMax: 2, applicationName: 'sfu-sessions' });
  const node = await SfuNode.start({
    sessionGate: new SessionGate(gateDb),
    nc,
    node: sfuCfg.nodeId,
    pool,
    listen: sfuCfg.listen,
    maxConsumersPerRouter: sfuCfg.maxConsumersPerRouter,
    limits: sfuCfg.limits,
  });
  const metrics = new SfuMetrics({ node, pool });
  const captions = await CaptionService.start({ nc, node, cfg, translation: parseTranslationClientEnv(process.env), metricsRegistry: metrics.registry, log });

  const ops = await OpsServer.start({
    host: sfuCfg.metrics.host,
    port: sfuCfg.metrics.port,
    registry: metrics.registry,
    health: () => ({ ok: !node.draining && pool.size > 0 && !nc.isClosed(), node: node.node, ...node.load }),
    log,
  });
  log.info({ node: node.node, workers: pool.size, metricsPort: ops.port, listenIp: sfuCfg.listen.ip }, 'SFU ready');

  onShutdownSignal({
    log,
    timeoutMs: sfuCfg.shutdownTimeoutMs,
    stop: async () => {
      await node.drain();
      await captions.close();
      await pool.closeAndWait();
      await ops.close();
      await gateDb.destroy();
      await nc.drain();
    },
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`sfu: ${err.message}\n`);
  else rootLog.fatal({ err }, 'SFU failed to start');
  process.exit(1);
});
