import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { InvalidStateError, NotFoundError } from '../../core/src/errors.js';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { SfuClient } from '../../core/src/sfu/SfuClient.js';
import type { Config } from '../../core/src/config.js';
import { moduleLog } from '../../core/src/log.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('publish');

const USAGE = `usage: polyglot publish --session SESSION --wav FILE [--loop] [--node NODE] [--peer SPEAKER]
  Plays FILE into SESSION as a live audio source, in real time: asks an SFU (placement, or NODE)
  for a plain RTP publisher and runs ffmpeg encoding the WAV to Opus RTP into it. --loop repeats
  the file until Ctrl-C / SIGTERM, which stops ffmpeg and closes the producer. SPEAKER is the
  source's peer id, which captions show as the speaker (default: publisher-<random>). A session
  that does not exist or has ended is refused before anything is streamed (exit 1).`;

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

  const nc = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: 'polyglot-publish' });
  const client = new SfuClient({ nc });
  try {
    const node = values.node ?? (await client.place(session)).node;
    let pub;
    try {
      pub = await client.request(node, 'createPlainPublisher', values.peer === undefined ? { session } : { session, peer: values.peer });
    } catch (err) {
      // No such session, or ended: the SFU's message says how to get one. Nothing was streamed.
      if (err instanceof NotFoundError || err instanceof InvalidStateError) {
        process.stderr.write(`polyglot publish: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    const peerLog = log.child({ sessionId: session, node, peer: pub.peer, producerId: pub.producerId });
    peerLog.info({ ip: pub.ip, port: pub.port, ssrc: pub.ssrc, loop }, 'publishing');

    const ffmpeg = spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
        ...(loop ? ['-stream_loop', '-1'] : []),
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

    let stoppedBy: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      stoppedBy ??= signal;
      ffmpeg.kill('SIGTERM');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      ffmpeg.once('error', (err) => reject(new Error(`could not run ffmpeg: ${err.message}`, { cause: err })));
      ffmpeg.once('exit', (code, signal) => resolve({ code, signal }));
    }).finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    });

    await client.request(node, 'closePeer', { session, peer: pub.peer });
    if (stoppedBy) {
      peerLog.info({ signal: stoppedBy }, 'stopped; producer closed');
      return 0;
    }
    if (exit.code === 0) {
      peerLog.info('end of file; producer closed');
      return 0;
    }
    peerLog.error({ code: exit.code, signal: exit.signal }, 'ffmpeg failed; producer closed');
    return 1;
  } finally {
    client.close();
    await nc.drain();
  }
}
