import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { version as mediasoupVersion } from 'mediasoup';
import type { Config } from '../../core/src/config.js';

/**
 * The mediasoup-worker binary to run: MEDIASOUP_WORKER_BIN if set, else the one sfu/worker/build.sh
 * built for the installed mediasoup version into the cache directory (npm's own postinstall would
 * download it from GitHub, which is not reachable here).
 */
export function workerBinary(cfg: Pick<Config, 'mediasoupWorkerBin' | 'cacheDir'>): string {
  const bin = cfg.mediasoupWorkerBin ?? path.join(cfg.cacheDir, `mediasoup-worker-${mediasoupVersion}`);
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`mediasoup worker binary not found or not executable at ${bin}: run 'make setup' (it builds it once per version)`);
  }
  return bin;
}
