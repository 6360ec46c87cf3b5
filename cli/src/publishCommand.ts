import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { access, constants } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { InvalidStateError, NotFoundError, PolyglotError } from '../../core/src/errors.js';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import type { RpcResult } from '../../core/src/sfu/rpcProtocol.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import type { Config } from '../../core/src/config.js';
import { moduleLog } from '../../core/src/log.js';
import { SfuNodeWatch } from '../../signaling/src/SfuNodeWatch.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('publish');

const USAGE = `usage: polyglot publish --session SESSION --wav FILE [--loop] [--node NODE] [--peer SPEAKER]
  Plays FILE into SESSION as a live audio source, in real time: asks an SFU (placement, or NODE)
  for a plain RTP publisher and runs ffmpeg encoding the WAV to Opus RTP into it. --loop repeats
  the file until Ctrl-C / SIGTERM, which stops ffmpeg and closes the producer. SPEAKER is the
  source's peer id, which captions show as the speaker (default: publisher-<random>). A session
  that does not exist or has ended is refused before anything is streamed (exit 1). When the SFU
  process serving it dies and comes back, the producer is set up again and the file goes on.`;

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function publishCommand(args: string[], cfg: Config): Promise<number> {
  let values: { session?: string; wav?: string; loop?: boolean; node?: string; peer?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { session: { type: 'string' }, wav: { type: 'string' }, loop: { type: 'boolean' }, node: { type: 'string' }, peer: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const { session, wav, loop = false } = values;
  if (!session || !SESSION_ID.test(session)) throw new UsageError(`--session must be 1-64 characters of [A-Za-z0-9_-]\n${USAGE}`);
  if (!wav) throw new UsageError(`--wav is required\n${USAGE}`);
  if (values.node !== undefined && !SESSION_ID.test(values.node)) throw new UsageError(`--node must be 1-64 characters of [A-Za-z0-9_-]`);
  if (values.peer !== undefined && !SESSION_ID.test(values.peer)) throw new UsageError(`--peer must be 1-64 characters of [A-Za-z0-9_-]`);
  try {
    await access(wav, constants.R_OK);
  } catch {
    throw new UsageError(`cannot read ${wav}`);
  }

  const nc = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: 'polyglot-publish', maxReconnectAttempts: -1 });
  const client = new SfuClient({ nc });
  // The SFU process this publisher streams into can die and come back (polyglot up and the process
  // manager restart it): its media is then gone, so the producer is set up again on whatever node
  // placement answers, and the file goes on from where it was (or from the start, with --loop).
  const watch = new SfuNodeWatch({ nc, log });
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => stop.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let playedMs = 0;
    for (let attempt = 0; ; attempt++) {
      let placed: { node: string; pub: PlainPublisher };
      try {
        placed = await publisherFor(client, session, values.node, values.peer);
      } catch (err) {
        // No such session, or ended: the SFU's message says how to get one. Nothing was streamed.
        if (err instanceof NotFoundError || err instanceof InvalidStateError) {
          process.stderr.write(`polyglot publish: ${err.message}\n`);
          return 1;
        }
        // An SFU restarting: placement answers again once it announces itself.
        if (attempt > 0 && PolyglotError.is(err) && err.retryable && !stop.signal.aborted) {
          log.warn({ err, attempt }, 'no SFU for the session yet; trying again');
          await delay(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)), undefined, { signal: stop.signal }).catch(() => undefined);
          if (stop.signal.aborted) return 0;
          continue;
        }
        throw err;
      }
      const { node, pub } = placed;
      const peerLog = log.child({ sessionId: session, node, peer: pub.peer, producerId: pub.producerId });
      peerLog.info({ ip: pub.ip, port: pub.port, ssrc: pub.ssrc, loop, fromMs: playedMs }, 'publishing');
      const startedAt = Date.now();
      const ffmpeg = spawnFfmpeg(wav, pub, loop, loop ? 0 : playedMs);
      const lost = new Promise<'lost'>((resolve) => {
        const onLost = (lostNode: string): void => {
          if (lostNode !== node) return;
          watch.off('lost', onLost);
          resolve('lost');
        };
        watch.on('lost', onLost);
        stop.signal.addEventListener('abort', () => watch.off('lost', onLost), { once: true });
      });
      const stopped = new Promise<'stopped'>((resolve) => {
        if (stop.signal.aborted) resolve('stopped');
        else stop.signal.addEventListener('abort', () => resolve('stopped'), { once: true });
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        ffmpeg.once('error', (err) => reject(new Error(`could not run ffmpeg: ${err.message}`, { cause: err })));
        ffmpeg.once('exit', (code, signal) => resolve({ code, signal }));
      });
      const outcome = await Promise.race([exited, lost, stopped]);
      if (outcome === 'lost' || outcome === 'stopped') {
        ffmpeg.kill('SIGTERM');
        await exited.catch(() => undefined);
      }
      if (outcome === 'lost') {
        playedMs += Date.now() - startedAt;
        peerLog.warn({ playedMs }, 'the SFU serving this publisher is gone; publishing again');
        attempt = 0;
        continue;
      }
      await client.request(node, 'closePeer', { session, peer: pub.peer }).catch((err: unknown) => peerLog.warn({ err }, 'closing the producer failed'));
      if (outcome === 'stopped') {
        peerLog.info({ signal: stop.signal.reason }, 'stopped; producer closed');
        return 0;
      }
      if (outcome.code === 0) {
        peerLog.info('end of file; producer closed');
        return 0;
      }
      peerLog.error({ code: outcome.code, signal: outcome.signal }, 'ffmpeg failed; producer closed');
      return 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    watch.close();
    client.close();
    await nc.drain();
  }
}

type PlainPublisher = RpcResult<'createPlainPublisher'>;

async function publisherFor(client: SfuClient, session: string, fixedNode: string | undefined, peer: string | undefined): Promise<{ node: string; pub: PlainPublisher }> {
  const node = fixedNode ?? (await client.place(session)).node;
  const pub = await client.request(node, 'createPlainPublisher', peer === undefined ? { session } : { session, peer });
  return { node, pub };
}

function spawnFfmpeg(wav: string, pub: PlainPublisher, loop: boolean, fromMs: number): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      ...(loop ? ['-stream_loop', '-1'] : []),
      ...(fromMs > 0 ? ['-ss', (fromMs / 1000).toFixed(3)] : []),
      ...['-re', '-i', wav],
      ...['-map', '0:a', '-acodec', 'libopus', '-ab', '48k', '-ac', '2', '-ar', '48000'],
      ...['-ssrc', String(pub.ssrc), '-payload_type', String(pub.payloadType)],
      // The PlainTransport is comedia + rtcp-mux: it latches onto the first sender's address, and
      // ffmpeg's RTCP would come from a second socket (sent before the first RTP packet), so RTCP
      // is off and ffmpeg is told not to address port+1.
      ...['-rtpflags', 'skip_rtcp', '-f', 'rtp', `rtp://${pub.ip}:${pub.port}?rtcpport=${pub.port}`],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
