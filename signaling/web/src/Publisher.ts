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
  readonly #onTransportFailed: () => void;
  #transport: types.Transport | undefined;
  #producer: types.Producer | undefined;

  /**
   * `onTransportFailed`: the send transport's ICE/DTLS connection failed (the media server went
   * away without signaling knowing yet, or the network changed): the owner publishes again.
   */
  constructor(client: SignalingClient, onTransportFailed: () => void = () => {}) {
    this.#client = client;
    this.#onTransportFailed = onTransportFailed;
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
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed' && this.#transport === transport) this.#onTransportFailed();
    });
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

  /**
   * Before publishing again: drops the local transport and whatever the SFU may still hold for this
   * socket (a send transport left by a failed attempt counts against the one a peer may have).
   */
  async reset(): Promise<void> {
    this.#closeLocal();
    try {
      await this.#client.request({ type: 'leaveMedia' }, 'mediaLeft');
    } catch {
      // The SFU is down or gone: it holds nothing for us then, and the next join says so.
    }
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
