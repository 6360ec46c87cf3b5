import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import { clientMessageSchemas } from '../../src/protocol.js';
import type { SignalingClient } from './SignalingClient.js';

export interface InboundAudioStats {
  bytesReceived: number;
  packetsReceived: number;
  audioLevel: number;
  totalAudioEnergy: number;
}

/**
 * A viewer's incoming audio: one receive transport, one consumer per producer of the session
 * (normally the host's microphone), all played through one <audio> element.
 */
export class Listener {
  readonly #client: SignalingClient;
  readonly #audio: HTMLAudioElement;
  readonly #stream = new MediaStream();
  readonly #consumers = new Map<string, types.Consumer>();
  #device: types.Device | undefined;
  #transport: types.Transport | undefined;

  constructor(client: SignalingClient, audio: HTMLAudioElement) {
    this.#client = client;
    this.#audio = audio;
  }

  get active(): boolean {
    return this.#transport !== undefined;
  }

  get consumerCount(): number {
    return this.#consumers.size;
  }

  async start(): Promise<void> {
    this.#closeLocal();
    const client = this.#client;
    const joined = await client.request({ type: 'join' }, 'joined');
    const device = new Device();
    await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
    this.#device = device;
    const info = await client.request({ type: 'createTransport', direction: 'recv' }, 'transportCreated');
    const transport = device.createRecvTransport({
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
    });
    this.#transport = transport;
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      const message = clientMessageSchemas.connectTransport.parse({ type: 'connectTransport', transportId: transport.id, dtlsParameters });
      client.request(message, 'transportConnected').then(() => callback(), errback);
    });
    for (const p of joined.producers) if (p.kind === 'audio') await this.consume(p.producerId);
  }

  /** Consumes one producer (the join list, or a producerAdded push). */
  async consume(producerId: string): Promise<void> {
    const transport = this.#transport;
    const device = this.#device;
    if (!transport || !device || this.#consumers.has(producerId)) return;
    const message = clientMessageSchemas.consume.parse({ type: 'consume', transportId: transport.id, producerId, rtpCapabilities: device.recvRtpCapabilities });
    const reply = await this.#client.request(message, 'consumed');
    const consumer = await transport.consume({ id: reply.consumerId, producerId: reply.producerId, kind: reply.kind, rtpParameters: reply.rtpParameters });
    this.#consumers.set(producerId, consumer);
    this.#stream.addTrack(consumer.track);
    // Attached only once it has a track: a media element with an empty stream never gets metadata,
    // and until it does it holds back the page's load event.
    if (this.#audio.srcObject !== this.#stream) this.#audio.srcObject = this.#stream;
    void this.#audio.play().catch((err: unknown) => console.warn('audio playback needs a user gesture', err));
    // The SFU creates consumers paused, so no packet is lost before the browser is ready for them.
    await this.#client.request({ type: 'resume', consumerId: consumer.id }, 'resumed');
  }

  producerClosed(producerId: string): void {
    const consumer = this.#consumers.get(producerId);
    if (!consumer) return;
    this.#stream.removeTrack(consumer.track);
    consumer.close();
    this.#consumers.delete(producerId);
  }

  async stop(): Promise<void> {
    const had = this.#transport !== undefined;
    this.#closeLocal();
    if (had) await this.#client.request({ type: 'leaveMedia' }, 'mediaLeft');
  }

  /** Summed inbound-rtp stats of every consumer (bytes, level), or undefined when not listening. */
  async inboundStats(): Promise<InboundAudioStats | undefined> {
    if (this.#consumers.size === 0) return undefined;
    const total: InboundAudioStats = { bytesReceived: 0, packetsReceived: 0, audioLevel: 0, totalAudioEnergy: 0 };
    for (const consumer of this.#consumers.values()) {
      const report = await consumer.getStats();
      report.forEach((s: { type?: string; bytesReceived?: number; packetsReceived?: number; audioLevel?: number; totalAudioEnergy?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        total.bytesReceived += s.bytesReceived ?? 0;
        total.packetsReceived += s.packetsReceived ?? 0;
        total.audioLevel = Math.max(total.audioLevel, s.audioLevel ?? 0);
        total.totalAudioEnergy += s.totalAudioEnergy ?? 0;
      });
    }
    return total;
  }

  #closeLocal(): void {
    for (const producerId of [...this.#consumers.keys()]) this.producerClosed(producerId);
    this.#transport?.close();
    this.#transport = undefined;
    this.#device = undefined;
    this.#audio.srcObject = null;
  }
}
