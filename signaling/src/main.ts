import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { ConfigError, parseConfig } from '../../core/src/config.js';
import { moduleLog } from '../../core/src/log.js';
import { createDb } from '../../sql/src/index.js';
import { parseSignalingConfig } from './config.js';
import { SignalingServer } from './SignalingServer.js';
import { TokenVerifier } from './TokenVerifier.js';

const log = moduleLog('signaling');

/** dist/web beside the source tree (ts-node) or beside dist/signaling (compiled). */
function defaultWebDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const compiled = here.endsWith(path.join('dist', 'signaling', 'src'));
  const root = path.resolve(here, compiled ? '../../..' : '../..');
  return path.join(root, 'dist', 'web');
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.env);
  const sig = parseSignalingConfig(process.env);
  if (sig.auth.devSecret) log.warn('PC_ENV=development without PC_JWT_SECRET: accepting tokens signed with the published development secret');

  const db = createDb({ ...cfg.database, applicationName: `signaling-${sig.nodeId}` });
  const nc = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: `signaling-${sig.nodeId}`, maxReconnectAttempts: -1 });
  const server = new SignalingServer({
    db,
    nc,
    verifier: new TokenVerifier(sig.auth),
    nodeId: sig.nodeId,
    maxConnections: sig.maxConnections,
    webDir: defaultWebDir(),
    publicUrl: sig.http.publicUrl,
    viewerLinkSecret: sig.auth.secret,
    admission: sig.admission,
    limits: { authTimeoutMs: sig.auth.timeoutMs, captionQueue: sig.captionQueue, pingIntervalMs: sig.pingIntervalMs },
    metrics: sig.metrics,
    languages: cfg.languages,
  });
  await server.listen(sig.http.port, sig.http.host);

  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    log.info({ signal, drainTimeoutMs: sig.drainTimeoutMs }, 'shutting down');
    stopping = (async () => {
      await server.drain({ timeoutMs: sig.drainTimeoutMs });
      await nc.drain();
      await db.destroy();
      log.info('stopped');
    })();
    stopping.catch((err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exitCode = 1;
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`signaling: ${err.message}\n`);
  else log.fatal({ err }, 'signaling failed to start');
  process.exit(err instanceof ConfigError ? 2 : 1);
});
