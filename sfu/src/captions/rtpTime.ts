/** Opus over RTP always counts time at 48 kHz, whatever the audio's real rate. */
export const OPUS_RTP_CLOCK_HZ = 48_000;

export interface RtpAudioPacket {
  sequenceNumber: number;
  timestamp: number;
  payload: Uint8Array;
}

/** Reads the fixed header, CSRCs, extension and padding of an RTP packet; undefined if malformed. */
export function parseRtp(packet: Buffer): RtpAudioPacket | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  const csrcCount = packet[0]! & 0x0f;
  const hasExtension = (packet[0]! & 0x10) !== 0;
  const hasPadding = (packet[0]! & 0x20) !== 0;
  let offset = 12 + csrcCount * 4;
  if (hasExtension) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  let end = packet.length;
  if (hasPadding) end -= packet[packet.length - 1]!;
  if (offset >= end) return undefined;
  return { sequenceNumber: packet.readUInt16BE(2), timestamp: packet.readUInt32BE(4), payload: packet.subarray(offset, end) };
}

/** b - a in RTP timestamp units, across the 32-bit wrap (positive when b is later). */
export function rtpTimestampDelta(a: number, b: number): number {
  return ((b - a + 0x80000000) >>> 0) - 0x80000000;
}
