import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import { clientMessageSchemas } from '../../src/protocol.js';
import type { SignalingClient } from './SignalingClient.js';

/**
 * The host's outgoing audio: one send transport and one Opus producer on the session's SFU,
 * negotiated through the signaling socket. start() again after a reconnect or a mediaReset.
 */
export class Publisher {
  readonly #client: SignalingClient;
  #transport: types.Transport | undefined;
  #producer: types.Producer | undefined;

  constructor(client: SignalingClient) {
    this.#client = client;
  }

  get producerId(): string | undefined {
    return this.#producer?.id;
  }

  async start(track: MediaStreamTrack): Promise<string> {
    this.#closeLocal();
    const client = this.#client;
    const joined = await client.request({ type: 'join' }, 'joined');
    const device = new Device();
    await device.load({ routerRtpCapabilities: joined.routerRtpCapabilities });
    if (!device.canProduce('audio')) throw new Error('this browser cannot send audio to the media server');
    const info = await client.request({ type: 'createTransport', direction: 'send' }, 'transportCreated');
    const transport = device.createSendTransport({
      id: info.transportId,
      iceParameters: info.iceParameters,
      iceCandidates: info.iceCandidates,
      dtlsParameters: info.dtlsParameters,
    });
    this.#transport = transport;
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      // Parsed, not cast: the schema the server applies, applied before sending.
      const message = clientMessageSchemas.connectTransport.parse({ type: 'connectTransport', transportId: transport.id, dtlsParameters });
      client.request(message, 'transportConnected').then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      const message = clientMessageSchemas.produce.parse({ type: 'produce', transportId: transport.id, kind, rtpParameters });
      client.request(message, 'produced').then((reply) => callback({ id: reply.producerId }), errback);
    });
    // Speech, mono, no DTX: the caption pipeline wants a steady stream, and silence is cheap anyway.
    this.#producer = await transport.produce({ track, stopTracks: false, codecOptions: { opusStereo: false, opusDtx: false } });
    return this.#producer.id;
  }

  /** Stops sending and releases the transport on the SFU. */
  async stop(): Promise<void> {
    this.#closeLocal();
    await this.#client.request({ type: 'leaveMedia' }, 'mediaLeft');
  }

  /** The sender's outbound-rtp stats, for tests and diagnostics. */
  async outboundStats(): Promise<{ bytesSent: number; packetsSent: number } | undefined> {
    const report = await this.#producer?.getStats();
    let found: { bytesSent: number; packetsSent: number } | undefined;
    report?.forEach((s: { type?: string; bytesSent?: number; packetsSent?: number }) => {
      if (s.type === 'outbound-rtp') found = { bytesSent: s.bytesSent ?? 0, packetsSent: s.packetsSent ?? 0 };
    });
    return found;
  }

  #closeLocal(): void {
    this.#producer?.close();
    this.#transport?.close();
    this.#producer = undefined;
    this.#transport = undefined;
  }
}
