import { spawn } from 'node:child_process';
import { connect, type NatsConnection } from 'nats';
import type { types } from 'mediasoup';
import { parseConfig } from '../../core/src/config.js';
import { useInfra } from '../../core/test/support/infra.js';
import { MediaWorkerPool } from '../src/MediaWorkerPool.js';
import { decodeSessionEvent, type SessionEvent } from '../../core/src/sfu/rpcProtocol.js';
import { sfuSessionEventsSubject } from '../../core/src/subjects.js';
import type { MediaListenOptions } from '../src/SessionMedia.js';
import { workerBinary } from '../src/workerBinary.js';

// Real resources for the SFU tests, each torn down with the test that made it.

export type Teardown = { teardown(fn: () => unknown): void };

export const LISTEN: MediaListenOptions = { ip: '127.0.0.1', portRange: { min: 40_000, max: 49_999 } };

export function workerBin(): string {
  return workerBinary(parseConfig(process.env));
}

/** Two workers by default: the machine has two cores, shared with other test files. */
export async function startPool(t: Teardown, size = 2): Promise<MediaWorkerPool> {
  const pool = await MediaWorkerPool.create({ workerBin: workerBin(), size });
  t.teardown(() => pool.closeAndWait());
  return pool;
}

export async function connectNats(t: Teardown): Promise<NatsConnection> {
  const { PC_NATS_URL } = await useInfra();
  const nc = await connect({ servers: PC_NATS_URL });
  t.teardown(() => nc.close());
  return nc;
}

/** Node and session ids unique to this run, so test files sharing one NATS server never meet. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Session events as they arrive, from the moment of the call (subscribe before acting).
 * `next(pred)` resolves with the first event, past or future, matching `pred`.
 */
export async function watchSession(t: Teardown, nc: NatsConnection, session: string): Promise<{ events: SessionEvent[]; next(pred: (e: SessionEvent) => boolean): Promise<SessionEvent> }> {
  const events: SessionEvent[] = [];
  const waiters: { pred: (e: SessionEvent) => boolean; resolve: (e: SessionEvent) => void }[] = [];
  const sub = nc.subscribe(sfuSessionEventsSubject(session), {
    callback: (_err, msg) => {
      const event = decodeSessionEvent(msg.data);
      events.push(event);
      for (const w of [...waiters]) {
        if (w.pred(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    },
  });
  t.teardown(() => sub.unsubscribe());
  await nc.flush();
  return {
    events,
    next(pred) {
      const seen = events.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

/**
 * Waits for `settled`. The bound only ends a wait that would otherwise hang; it never decides what
 * the test sees. On expiry the error carries `diagnose()`'s account of what did arrive.
 */
export async function within<T>(boundMs: number, settled: Promise<T>, diagnose: () => string | Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), boundMs);
  });
  try {
    const winner = await Promise.race([settled.then((value) => ({ value })), expired]);
    if (winner === 'expired') throw new Error(`still waiting after ${boundMs} ms: ${await diagnose()}`);
    return winner.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Counts a consumer's RTP packets; `reached(n)` resolves once n have arrived. */
export function countRtp(consumer: types.Consumer): { readonly count: number; reached(n: number): Promise<void> } {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  consumer.on('rtp', () => {
    count += 1;
    for (const w of [...waiters]) {
      if (count >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    get count() {
      return count;
    },
    reached(n) {
      return count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/**
 * ffmpeg sending `wav` as Opus RTP to a comedia PlainTransport, looped until the test ends (so a
 * consumer attached at any time gets packets). Killed at teardown.
 */
export function feedOpus(t: Teardown, { wav, ip, port, ssrc, payloadType }: { wav: string; ip: string; port: number; ssrc: number; payloadType: number }): void {
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-stream_loop', '-1', '-re', '-i', wav],
      ...['-map', '0:a', '-acodec', 'libopus', '-ab', '32k', '-ac', '2', '-ar', '48000'],
      ...['-ssrc', String(ssrc), '-payload_type', String(payloadType)],
      ...['-rtpflags', 'skip_rtcp', '-f', 'rtp', `rtp://${ip}:${port}?rtcpport=${port}`],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  t.teardown(() => {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
  });
}
