#!/usr/bin/env node
/**
 * The SFU process: mediasoup workers, the NATS RPC server of rpc/protocol.ts, Prometheus metrics
 * and /healthz. SIGTERM (or SIGINT) drains: leave the RPC queue groups, goaway, sessionClosed
 * {reason:'shutdown'} for every session, close the workers, exit 0, all within
 * PC_SFU_SHUTDOWN_TIMEOUT_MS (past it: exit 1 with whatever is left killed).
 */
import { once } from 'node:events';
import http from 'node:http';
import * as mediasoup from 'mediasoup';
import { connect } from 'nats';
import { ConfigError, parseConfig } from '../../core/src/config.js';
import { moduleLog, rootLog } from '../../core/src/log.js';
import { parseSfuConfig } from './config.js';
import { MediaWorkerPool } from './MediaWorkerPool.js';
import { SfuMetrics } from './SfuMetrics.js';
import { SfuNode } from './SfuNode.js';
import { CaptionService } from './captions/CaptionService.js';
import { parseTranslationClientEnv } from '../../sidecars/client/src/translationEnv.js';
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

  const nc = await connect({ servers: cfg.natsUrl, name: `sfu-${sfuCfg.nodeId}` });
  const pool = await MediaWorkerPool.create({ workerBin: workerBinary(cfg), size: sfuCfg.workers });
  const node = await SfuNode.start({
    nc,
    node: sfuCfg.nodeId,
    pool,
    listen: sfuCfg.listen,
    maxConsumersPerRouter: sfuCfg.maxConsumersPerRouter,
  });
  const metrics = new SfuMetrics({ node, pool });
  const captions = await CaptionService.start({ nc, node, cfg, translation: parseTranslationClientEnv(process.env), metricsRegistry: metrics.registry, log });

  const server = http.createServer((req, res) => {
    const url = req.url?.split('?')[0];
    if (req.method === 'GET' && url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => {
          log.error({ err }, 'metrics collection failed');
          res.writeHead(500).end();
        },
      );
    } else if (req.method === 'GET' && url === '/healthz') {
      const healthy = !node.draining && pool.size > 0 && !nc.isClosed();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: healthy, node: node.node, ...node.load }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(sfuCfg.metrics.port, sfuCfg.metrics.host);
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : sfuCfg.metrics.port;
  log.info({ node: node.node, workers: pool.size, metricsPort: port, listenIp: sfuCfg.listen.ip }, 'SFU ready');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs: sfuCfg.shutdownTimeoutMs }, 'shutting down');
    const forced = setTimeout(() => {
      log.error({ timeoutMs: sfuCfg.shutdownTimeoutMs }, 'shutdown exceeded its bound; exiting anyway');
      pool.close();
      process.exit(1);
    }, sfuCfg.shutdownTimeoutMs);
    void (async () => {
      await node.drain();
      await captions.close();
      await pool.closeAndWait();
      server.closeAllConnections();
      server.close();
      await nc.drain();
      clearTimeout(forced);
      log.info('shut down cleanly');
      process.exit(0);
    })().catch((err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`sfu: ${err.message}\n`);
  else rootLog.fatal({ err }, 'SFU failed to start');
  process.exit(1);
});
