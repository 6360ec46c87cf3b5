import { ForbiddenError, InvalidStateError, QuotaExceededError } from '../../core/src/errors.js';
import { MediaLimitError } from './errors.js';
import type { ClientMessageOf, ServerMessageOf } from './protocol.js';
import type { SessionRoom } from './SessionRoom.js';

/** The media requests a socket sends once it has joined (join itself is answered by join()). */
export type MediaRequest = ClientMessageOf<'createTransport' | 'connectTransport' | 'produce' | 'consume' | 'resume' | 'leaveMedia'>;
export type MediaReply = ServerMessageOf<'transportCreated' | 'transportConnected' | 'produced' | 'consumed' | 'resumed' | 'mediaLeft'>;

export interface MediaRelayOptions {
  /** The socket's id, which is also its SFU peer id. */
  peer: string;
  session: string;
  /** Hosts and speakers publish; viewers only listen. */
  canProduce: boolean;
  /** One RPC to the SFU node serving the session (the room's, which knows the placement). */
  sfu: SessionRoom['sfuRequest'];
}

/**
 * One authenticated socket's media signaling, relayed to the SFU serving its session: join (the
 * router's capabilities and the producers to consume), transports, produce, consume, resume and
 * leaving. It remembers whether the socket is in media and whether the SFU holds transports for it,
 * so a socket that closes releases them and a reset from the SFU sends the client to join again.
 */
export class MediaRelay {
  readonly #peer: string;
  readonly #session: string;
  readonly #canProduce: boolean;
  readonly #sfu: SessionRoom['sfuRequest'];
  #inMedia = false;
  /** The SFU holds transports for this peer (released on close). */
  #hasSfuPeer = false;

  constructor({ peer, session, canProduce, sfu }: MediaRelayOptions) {
    this.#peer = peer;
    this.#session = session;
    this.#canProduce = canProduce;
    this.#sfu = sfu;
  }

  /** Joined the media path (wants producer announcements). */
  get inMedia(): boolean {
    return this.#inMedia;
  }

  /** The router's RTP capabilities and the producers of the others; the socket is in media from now on. */
  async join(): Promise<ServerMessageOf<'joined'>> {
    const session = this.#session;
    const [caps, listed] = await Promise.all([this.#sfu('getRouterRtpCapabilities', { session }), this.#sfu('listProducers', { session })]);
    this.#inMedia = true;
    return {
      type: 'joined',
      routerRtpCapabilities: caps.rtpCapabilities,
      producers: listed.producers.filter((p) => p.peer !== this.#peer).map((p) => ({ producerId: p.producerId, kind: p.kind })),
    };
  }

  async handle(message: MediaRequest): Promise<MediaReply> {
    try {
      return await this.#handle(message);
    } catch (err) {
      // The only quota an SFU RPC hits is a media bound; the client sees it as media_limit.
      if (err instanceof QuotaExceededError) throw new MediaLimitError(err.message, err.retryAfterMs, err);
      throw err;
    }
  }

  async #handle(message: MediaRequest): Promise<MediaReply> {
    const session = this.#session;
    const peer = this.#peer;
    switch (message.type) {
      case 'createTransport': {
        if (message.direction === 'send') this.#requireProducer('publish audio');
        this.#requireMedia();
        this.#hasSfuPeer = true;
        const t = await this.#sfu('createWebRtcTransport', { session, peer, direction: message.direction });
        return { type: 'transportCreated', transportId: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
      }
      case 'connectTransport':
        this.#requireMedia();
        await this.#sfu('connectTransport', { session, peer, transportId: message.transportId, dtlsParameters: message.dtlsParameters });
        return { type: 'transportConnected', transportId: message.transportId };
      case 'produce': {
        this.#requireProducer('produce');
        this.#requireMedia();
        const p = await this.#sfu('produce', { session, peer, transportId: message.transportId, kind: message.kind, rtpParameters: message.rtpParameters });
        return { type: 'produced', producerId: p.producerId };
      }
      case 'consume': {
        this.#requireMedia();
        const c = await this.#sfu('consume', { session, peer, transportId: message.transportId, producerId: message.producerId, rtpCapabilities: message.rtpCapabilities });
        return { type: 'consumed', consumerId: c.consumerId, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters };
      }
      case 'resume':
        this.#requireMedia();
        await this.#sfu('resumeConsumer', { session, peer, consumerId: message.consumerId });
        return { type: 'resumed', consumerId: message.consumerId };
      case 'leaveMedia':
        if (this.#hasSfuPeer) await this.#sfu('closePeer', { session, peer });
        this.#inMedia = false;
        this.#hasSfuPeer = false;
        return { type: 'mediaLeft' };
    }
  }

  /** The SFU dropped this peer's transports. Returns whether the socket was in media (then it must join again). */
  mediaReset(): boolean {
    if (!this.#inMedia) return false;
    this.#inMedia = false;
    this.#hasSfuPeer = false;
    return true;
  }

  /** The socket closed: releases its transports on the SFU, if it has any. */
  async release(): Promise<void> {
    if (!this.#hasSfuPeer) return;
    this.#hasSfuPeer = false;
    await this.#sfu('closePeer', { session: this.#session, peer: this.#peer });
  }

  #requireMedia(): void {
    if (!this.#inMedia) throw new InvalidStateError('send join first');
  }

  #requireProducer(what: string): void {
    if (!this.#canProduce) throw new ForbiddenError(`a viewer cannot ${what}`);
  }
}
