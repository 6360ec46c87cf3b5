import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createWorker, type types } from 'mediasoup';
import { OpusDecoder } from 'opus-decoder';
import t from 'tap';
import { parseConfig } from '../../core/src/config.js';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { workerBinary } from '../src/workerBinary.js';

// The media plumbing on the real mediasoup worker: transports, real Opus RTP in and out, and the
// close() cascade. Nothing here is faked.

type Teardown = { teardown(fn: () => unknown): void };

const RTC_MIN_PORT = 40_000;
const RTC_MAX_PORT = 49_999;
const OPUS: types.RouterRtpCodecCapability = { kind: 'audio', mimeType: 'audio/opus', clockRate: 48_000, channels: 2 };
/** Fits ffmpeg's `-ssrc`, which is a signed 32-bit option. */
const PRODUCER_SSRC = 0x1234_5678;
const OPUS_PACKET_MS = 20;
const SPEECH =
  'Welcome to the weekly planning meeting. Live captions will follow everything we say, in every language we support.';

/** A fresh worker for one test; closed at teardown, which waits until the subprocess has exited. */
async function startWorker(t: Teardown): Promise<types.Worker> {
  const worker = await createWorker({
    workerBin: workerBinary(parseConfig(process.env)),
    logLevel: 'warn',
    rtcMinPort: RTC_MIN_PORT,
    rtcMaxPort: RTC_MAX_PORT,
  });
  t.teardown(async () => {
    if (worker.subprocessClosed) return;
    const exited = once(worker, 'subprocessclose');
    worker.close();
    await exited;
  });
  return worker;
}

function opusPayloadType(router: types.Router): number {
  const codec = router.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
  if (codec?.preferredPayloadType === undefined) throw new Error('router has no Opus codec');
  return codec.preferredPayloadType;
}

/** A producer's parameters as an ffmpeg RTP sender describes its stream (no MID, no header extensions). */
function opusProducerParameters(payloadType: number): types.RtpParameters {
  return {
    codecs: [{ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType }],
    encodings: [{ ssrc: PRODUCER_SSRC }],
  };
}

interface RtpPacket {
  version: number;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** RFC 3550 §5.1, skipping CSRCs, the header extension (the worker adds mid, abs-send-time, ...) and padding. */
function parseRtp(packet: Buffer): RtpPacket {
  if (packet.length < 12) throw new Error(`RTP packet of ${packet.length} bytes is shorter than its fixed header`);
  const first = packet.readUInt8(0);
  let offset = 12 + (first & 0x0f) * 4;
  if (first & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  const end = first & 0x20 ? packet.length - packet.readUInt8(packet.length - 1) : packet.length;
  return {
    version: first >> 6,
    payloadType: packet.readUInt8(1) & 0x7f,
    sequenceNumber: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** Audio in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
function opusPacketMs(payload: Buffer): number {
  const toc = payload.readUInt8(0);
  const config = toc >> 3;
  const frameMs =
    config < 12 ? [10, 20, 40, 60][config % 4]! : config < 16 ? [10, 20][config % 2]! : [2.5, 5, 10, 20][config % 4]!;
  const code = toc & 0x03;
  const frames = code === 0 ? 1 : code === 3 ? payload.readUInt8(1) & 0x3f : 2;
  return frameMs * frames;
}

/** Length of the PCM in a WAV file, from its `fmt ` byte rate and its `data` chunk size. */
async function wavDurationMs(file: string): Promise<number> {
  const wav = await readFile(file);
  let byteRate: number | undefined;
  let dataBytes: number | undefined;
  for (let offset = 12; offset + 8 <= wav.length; ) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    if (id === 'fmt ') byteRate = wav.readUInt32LE(offset + 16);
    if (id === 'data') dataBytes = size;
    offset += 8 + size + (size & 1);
  }
  if (!byteRate || dataBytes === undefined) throw new Error(`${file} is not a PCM WAV file`);
  return (dataBytes / byteRate) * 1000;
}

/**
 * Waits for `settled`. The bound only ends a wait that would otherwise hang; it never decides what
 * the test sees. On expiry the error carries `diagnose()`'s account of what did arrive.
 */
async function within<T>(boundMs: number, settled: Promise<T>, diagnose: () => Promise<string>): Promise<T> {
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

t.test('a WebRtcTransport on loopback offers udp and tcp ICE candidates and DTLS fingerprints', async (t) => {
  const worker = await startWorker(t);
  const router = await worker.createRouter({ mediaCodecs: [OPUS] });
  const transport = await router.createWebRtcTransport({
    listenInfos: [
      { protocol: 'udp', ip: '127.0.0.1' },
      { protocol: 'tcp', ip: '127.0.0.1' },
    ],
  });

  const candidates = transport.iceCandidates;
  t.same(candidates.map((c) => c.protocol).sort(), ['tcp', 'udp'], 'one udp and one tcp candidate');
  for (const c of candidates) {
    t.equal(c.address, '127.0.0.1', `${c.protocol} candidate address`);
    t.equal(c.type, 'host', `${c.protocol} candidate type`);
    t.ok(c.port >= RTC_MIN_PORT && c.port <= RTC_MAX_PORT, `${c.protocol} port ${c.port} is in the worker's range`);
  }
  t.equal(candidates.find((c) => c.protocol === 'tcp')?.tcpType, 'passive', 'the tcp candidate is passive');
  t.ok(transport.iceParameters.usernameFragment.length > 0 && transport.iceParameters.password.length > 0, 'ICE credentials');
  t.equal(transport.iceParameters.iceLite, true, 'mediasoup is ICE-lite');
  t.equal(transport.iceRole, 'controlled', 'ICE role');
  t.equal(transport.iceState, 'new', 'ICE state before any peer');
  t.equal(transport.dtlsState, 'new', 'DTLS state before any peer');

  const { fingerprints } = transport.dtlsParameters;
  t.ok(fingerprints.length > 0, 'DTLS fingerprints');
  const sha256 = fingerprints.find((f) => f.algorithm === 'sha-256');
  t.match(sha256?.value, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'sha-256 fingerprint of the certificate');
});

t.test('Opus RTP from ffmpeg into a PlainTransport reaches a DirectTransport consumer in Node', async (t) => {
  const worker = await startWorker(t);
  const router = await worker.createRouter({ mediaCodecs: [OPUS] });
  const payloadType = opusPayloadType(router);

  // comedia: the worker learns ffmpeg's address from the first packet it receives.
  const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await plain.produce({ kind: 'audio', rtpParameters: opusProducerParameters(payloadType) });
  const direct = await router.createDirectTransport();
  const consumer = await direct.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  t.equal(consumer.paused, false, 'a DirectTransport consumer starts unpaused');
  const consumerPayloadType = consumer.rtpParameters.codecs[0]?.payloadType;
  const consumerSsrc = consumer.rtpParameters.encodings?.[0]?.ssrc;

  const wav = await makeSpeechWav(t, SPEECH, { sampleRate: 48_000 });
  const audioMs = await wavDurationMs(wav);
  const expected = Math.floor(audioMs / OPUS_PACKET_MS);
  t.ok(audioMs > 3000, `the speech fixture lasts ${Math.round(audioMs)} ms`);

  const packets: Buffer[] = [];
  let ffmpegStderr = '';
  let fail!: (err: Error) => void;
  const arrived = new Promise<void>((resolve, reject) => {
    fail = reject;
    consumer.on('rtp', (packet) => {
      packets.push(packet);
      if (packets.length >= expected) resolve();
    });
  });

  const port = plain.tuple.localPort;
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error'],
      // Pacing: -re (real time) would make this test as long as the speech, for no extra coverage.
      // No pacing at all bursts every packet within ~0.2 s; on loopback that only loses packets when
      // the worker's socket buffer fills, but each small datagram costs ~1 KB of the default 208 KB
      // buffer, so a worker descheduled on a busy CI machine could drop some of ~340. Four times real
      // time keeps the backlog small and still finishes in about two seconds.
      ...['-readrate', '4', '-i', wav],
      ...['-map', '0:a', '-acodec', 'libopus', '-ab', '32k', '-ac', '2', '-ar', '48000'],
      ...['-ssrc', String(PRODUCER_SSRC), '-payload_type', String(payloadType)],
      // ffmpeg sends RTCP from a second socket, and sends a sender report before the first RTP packet.
      // comedia would latch onto that RTCP socket's port and then drop every RTP packet as coming
      // "from unknown IP:port". skip_rtcp keeps the RTP socket the only sender; rtcpport keeps
      // ffmpeg from addressing port+1, which may belong to another transport.
      ...['-rtpflags', 'skip_rtcp', '-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${port}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  t.teardown(() => {
    if (ffmpeg.exitCode === null && ffmpeg.signalCode === null) ffmpeg.kill('SIGKILL');
  });
  ffmpeg.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    ffmpegStderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => ffmpeg.on('exit', (code) => resolve(code)));
  ffmpeg.on('error', (err) => fail(new Error(`could not run ffmpeg: ${err.message}`, { cause: err })));
  ffmpeg.on('exit', (code, signal) => {
    // A clean exit settles nothing: packets it sent may still be on their way through the worker.
    if (code !== 0) fail(new Error(`ffmpeg exited with ${code ?? signal}: ${ffmpegStderr.trim()}`));
  });

  await within(15_000 + audioMs, arrived, async () => {
    const [stats] = await producer.getStats();
    return (
      `${packets.length} of ${expected} packets reached Node; the producer counted ${stats?.packetCount ?? 0}; ` +
      `ffmpeg exit code ${ffmpeg.exitCode}; transport tuple ${JSON.stringify(plain.tuple)}`
    );
  });
  t.equal(await exited, 0, 'ffmpeg sent the whole file and exited cleanly');

  const received = packets.slice();
  t.ok(received.length >= expected, `${received.length} packets for ${Math.round(audioMs)} ms of audio (at least ${expected})`);
  const [producerStats] = await producer.getStats();
  t.equal(producerStats?.ssrc, PRODUCER_SSRC, 'the producer received the SSRC ffmpeg was told to send');

  const rtp = received.map(parseRtp);
  t.ok(rtp.every((p) => p.version === 2), 'every packet is RTP version 2');
  t.same([...new Set(rtp.map((p) => p.payloadType))], [consumerPayloadType], "the consumer's payload type");
  t.same([...new Set(rtp.map((p) => p.ssrc))], [consumerSsrc], "the consumer's SSRC, not the producer's");
  t.ok(rtp.every((p) => p.payload.length > 0), 'no empty payloads');
  t.same([...new Set(rtp.map((p) => opusPacketMs(p.payload)))], [OPUS_PACKET_MS], 'every Opus packet holds 20 ms');
  const gaps = rtp.slice(1).filter((p, i) => {
    const prev = rtp[i]!;
    return ((p.sequenceNumber - prev.sequenceNumber) & 0xffff) !== 1 || ((p.timestamp - prev.timestamp) >>> 0) !== 960;
  });
  t.same(gaps, [], 'sequence numbers step by 1 and timestamps by 960 samples (no loss, no reordering)');

  // Decoding proves the payloads are Opus and carry the speech, not silence or garbage.
  const decoder = new OpusDecoder({ sampleRate: 48_000, channels: 2 });
  t.teardown(() => decoder.free());
  await decoder.ready;
  let samples = 0;
  let decodeErrors = 0;
  let energy = 0;
  for (const { payload } of rtp) {
    const pcm = decoder.decodeFrame(payload);
    samples += pcm.samplesDecoded;
    decodeErrors += pcm.errors.length;
    for (const s of pcm.channelData[0] ?? []) energy += s * s;
  }
  t.equal(decodeErrors, 0, 'every payload decodes');
  t.equal(samples, rtp.length * 960, '960 samples per packet at 48 kHz');
  const rms = Math.sqrt(energy / Math.max(samples, 1));
  t.ok(rms > 0.01, `decoded audio is speech, not silence (RMS ${rms.toFixed(3)})`);
  t.comment(`${received.length} RTP packets for ${Math.round(audioMs)} ms of speech; decoded RMS ${rms.toFixed(3)}`);
});

t.test('close() cascades from router to transports, producer and consumer, and from worker to routers', async (t) => {
  const worker = await startWorker(t);
  const router = await worker.createRouter({ mediaCodecs: [OPUS] });
  const webRtc = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
  const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });
  const producer = await plain.produce({ kind: 'audio', rtpParameters: opusProducerParameters(opusPayloadType(router)) });
  const direct = await router.createDirectTransport();
  const consumer = await direct.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  const transports = [webRtc, plain, direct];

  // mediasoup emits these synchronously inside close(): subscribe first, then await them.
  const cascade = Promise.all([
    once(router.observer, 'close'),
    ...transports.flatMap((tr) => [once(tr, 'routerclose'), once(tr.observer, 'close')]),
    once(producer, 'transportclose'),
    once(producer.observer, 'close'),
    once(consumer, 'transportclose'),
    once(consumer.observer, 'close'),
  ]);
  router.close();
  await cascade;
  t.ok(router.closed, 'router closed');
  t.same(
    transports.map((tr) => tr.closed),
    [true, true, true],
    'WebRTC, plain and direct transports closed',
  );
  t.ok(producer.closed, 'producer closed');
  t.ok(consumer.closed, 'consumer closed');
  t.doesNotThrow(() => {
    router.close();
    for (const tr of transports) tr.close();
    producer.close();
    consumer.close();
  }, 'close() again on closed objects is a no-op');
  t.notOk(worker.closed, 'closing a router leaves its worker running');

  const second = await worker.createRouter({ mediaCodecs: [OPUS] });
  const secondTransport = await second.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
  let died = false;
  worker.on('died', () => {
    died = true;
  });
  const workerCascade = Promise.all([
    once(second, 'workerclose'),
    once(second.observer, 'close'),
    once(secondTransport, 'routerclose'),
    once(worker.observer, 'close'),
  ]);
  const subprocessClosed = once(worker, 'subprocessclose');
  worker.close();
  await workerCascade;
  t.ok(worker.closed, 'worker closed');
  t.ok(second.closed, "the worker's router closed");
  t.ok(secondTransport.closed, "that router's transport closed");
  t.doesNotThrow(() => worker.close(), 'worker.close() again is a no-op');

  await subprocessClosed;
  t.ok(worker.subprocessClosed, 'the worker subprocess exited');
  // 'died' is emitted, if ever, before 'subprocessclose' and only when we did not close the worker.
  t.notOk(died, "a worker closed by us never emits 'died'");
  t.notOk(worker.died, 'worker.died stays false');
  await t.rejects(worker.createRouter({ mediaCodecs: [OPUS] }), { name: 'InvalidStateError' }, 'a closed worker rejects new routers');
});

t.test('producing a codec the router does not have (PCMU) is rejected', async (t) => {
  const worker = await startWorker(t);
  const router = await worker.createRouter({ mediaCodecs: [OPUS] });
  const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: true, comedia: true });

  await t.rejects(
    plain.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 }], encodings: [{ ssrc: PRODUCER_SSRC }] },
    }),
    { name: 'UnsupportedError', message: /unsupported codec \[mimeType:audio\/PCMU, payloadType:0\]/ },
    'UnsupportedError naming the codec',
  );
  // The rejection leaves the transport usable: the same SSRC can still be produced as Opus.
  const producer = await plain.produce({ kind: 'audio', rtpParameters: opusProducerParameters(opusPayloadType(router)) });
  t.equal(producer.rtpParameters.codecs[0]?.mimeType, 'audio/opus', 'Opus producer');
  const dump = await plain.dump();
  t.same(dump.producerIds, [producer.id], 'only the Opus producer exists on the transport');
});
