import t from 'tap';
import { AudioTap, CHUNK_SAMPLES } from '../src/captions/AudioTap.js';
import { parseRtp, rtpTimestampDelta } from '../src/captions/rtpTime.js';
import { onceEvent } from '../../core/src/events.js';
import { SessionMedia } from '../src/SessionMedia.js';
import { moduleLog } from '../../core/src/log.js';
import { makeSpeechWav } from '../../test/support/speechWav.js';
import { feedOpus, LISTEN, startPool, uniqueId } from './_harness.js';

function rms(pcm: Buffer): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i += 2) sum += pcm.readInt16LE(i) ** 2;
  return Math.sqrt(sum / (pcm.length / 2)) / 32768;
}

t.test('a producer is decoded once to 16 kHz mono PCM in 100 ms chunks on the wall clock', async (t) => {
  const pool = await startPool(t, 1);
  const media = await SessionMedia.create({ session: uniqueId('tap'), pool, listen: LISTEN, maxConsumersPerRouter: 500 });
  t.teardown(() => media.close());
  const pub = await media.createPlainPublisher('host');
  const wav = await makeSpeechWav(t, 'The quick brown fox jumps over the lazy dog. Captions for everyone, in every language.', { sampleRate: 48_000 });
  const tap = await AudioTap.create({ media, producerId: pub.producerId, log: moduleLog('test') });
  const chunks: { pcm: Buffer; streamOffsetMs: number; wallClockMs: number }[] = [];
  const enough = new Promise<void>((resolve) =>
    tap.on('chunk', (chunk) => {
      chunks.push(chunk);
      if (chunks.length === 30) resolve();
    }),
  );
  const startedAt = Date.now();
  feedOpus(t, { wav, ip: pub.ip, port: pub.port, ssrc: pub.ssrc, payloadType: pub.payloadType });
  await enough;

  t.ok(chunks.every((c) => c.pcm.length === CHUNK_SAMPLES * 2), 'every chunk is 100 ms of 16-bit samples');
  t.same(chunks.map((c) => c.streamOffsetMs), chunks.map((_, i) => i * 100), 'offsets advance by exactly 100 ms');
  t.ok(chunks.every((c, i) => c.wallClockMs - chunks[0]!.wallClockMs === i * 100), 'wall clock follows RTP time');
  t.ok(chunks[0]!.wallClockMs >= startedAt && chunks[0]!.wallClockMs <= Date.now(), 'first sample dated when it arrived');
  const loud = chunks.filter((c) => rms(c.pcm) > 0.01).length;
  t.ok(loud >= 10, `speech decoded, not silence (${loud} of 30 chunks carry speech)`);

  const closed = onceEvent(tap, 'close');
  tap.close();
  tap.close();
  await closed;
  t.ok(tap.closed);
  t.equal(media.stats.consumers, 0, 'the tap consumer went with it');
});

t.test('RTP parsing and timestamp arithmetic', async (t) => {
  const packet = Buffer.alloc(12 + 4 + 8 + 3);
  packet[0] = 0x80 | 0x10; // version 2, extension
  packet.writeUInt16BE(65535, 2);
  packet.writeUInt32BE(0xfffffc40, 4);
  packet.writeUInt16BE(0xbede, 12);
  packet.writeUInt16BE(2, 14); // two 32-bit words of extension
  packet.write('abc', 24);
  const rtp = parseRtp(packet);
  t.equal(rtp?.sequenceNumber, 65535);
  t.equal(rtp?.payload.toString(), 'abc', 'payload starts after the header extension');
  t.equal(parseRtp(Buffer.from([0x40, 0, 0, 0])), undefined, 'too short / wrong version');
  t.equal(rtpTimestampDelta(0xfffffc40, 0x00000000), 960, 'across the 32-bit wrap');
  t.equal(rtpTimestampDelta(1920, 960), -960, 'late packet');
});
