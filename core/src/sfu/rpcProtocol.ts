/**
 * The signaling<->SFU contract over NATS, v1: what a signaling node (or the `polyglot publish` CLI)
 * sends to an SFU node, what it gets back, and what the SFU announces. Every payload on these
 * subjects is decoded from `unknown` by exactly one decoder below; both sides import this file,
 * never their own copy. The subjects themselves are built in core/src/subjects.ts.
 *
 * Subjects
 *   pc.v1.sfu.place                 request/reply, queue group `sfu-place`: {session} -> {node}.
 *                                   Any node answers; it picks the least-loaded live node and claims
 *                                   the session for it in the JetStream KV bucket `pc_sfu_placement`,
 *                                   so every signaling node gets the same answer for one session.
 *   pc.v1.sfu.<node>.rpc            request/reply, queue group `sfu-rpc` (one node id may run as
 *                                   several processes only behind a shared router state: today one).
 *                                   Body {method, params}; reply {ok:true,result}|{ok:false,error}.
 *   pc.v1.sfu.announce              every node, every `intervalMs` (2 s): {type:'announce', node, instance, load};
 *                                   on shutdown: {type:'goaway', node} (send no new RPCs to it,
 *                                   ask placement again).
 *   pc.v1.sfu.s.<session>.events    what happened to a session's media: producer added/closed,
 *                                   peers whose transports a dead worker took with it, session closed.
 *
 * Ids: session, peer and node ids are used as NATS subject tokens (`subjectTokenSchema`).
 * mediasoup ids (transport, producer, consumer) are UUIDs. Errors travel as core's `ErrorCode`
 * and come back as the same class from core/src/errors.ts.
 */
import { z } from 'zod';
import { InternalError, InvalidArgumentError, POLYGLOT_ERROR_CODES, PolyglotError, QuotaExceededError, errorForCode } from '../errors.js';
import { subjectTokenSchema } from '../subjects.js';

// ---------------------------------------------------------------------------------------------
// Building blocks (mirror mediasoup's and mediasoup-client's types, so decoded values pass to them
// without casts)

const sessionIdSchema = subjectTokenSchema;
const peerIdSchema = subjectTokenSchema;
const nodeIdSchema = subjectTokenSchema;
const msId = z.string().uuid();

const mediaKind = z.enum(['audio', 'video']);
const headerExtensionUri = z.enum([
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension',
  'urn:3gpp:video-orientation',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time',
  'urn:ietf:params:rtp-hdrext:toffset',
  'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay',
  'urn:mediasoup:params:rtp-hdrext:packet-id',
]);
const payloadType = z.number().int().min(0).max(127);
const codecParameters = z.record(z.unknown());
const rtcpFeedback = z.object({ type: z.string().max(64), parameter: z.string().max(64).optional() });

export const rtpCapabilitiesSchema = z.object({
  codecs: z
    .array(
      z.object({
        kind: mediaKind,
        mimeType: z.string().min(1).max(64),
        preferredPayloadType: payloadType,
        clockRate: z.number().int().positive(),
        channels: z.number().int().min(1).max(8).optional(),
        parameters: codecParameters.optional(),
        rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
      }),
    )
    .max(64)
    .optional(),
  headerExtensions: z
    .array(
      z.object({
        kind: mediaKind,
        uri: headerExtensionUri,
        preferredId: z.number().int().min(1).max(255),
        preferredEncrypt: z.boolean().optional(),
        direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']).optional(),
      }),
    )
    .max(64)
    .optional(),
});

export const rtpParametersSchema = z.object({
  mid: z.string().max(32).optional(),
  codecs: z
    .array(
      z.object({
        mimeType: z.string().min(1).max(64),
        payloadType,
        clockRate: z.number().int().positive(),
        channels: z.number().int().min(1).max(8).optional(),
        parameters: codecParameters.optional(),
        rtcpFeedback: z.array(rtcpFeedback).max(32).optional(),
      }),
    )
    .min(1)
    .max(16),
  headerExtensions: z
    .array(
      z.object({
        uri: headerExtensionUri,
        id: z.number().int().min(1).max(255),
        encrypt: z.boolean().optional(),
        parameters: codecParameters.optional(),
      }),
    )
    .max(32)
    .optional(),
  encodings: z
    .array(
      z.object({
        ssrc: z.number().int().min(0).max(0xffffffff).optional(),
        rid: z.string().max(32).optional(),
        codecPayloadType: payloadType.optional(),
        rtx: z.object({ ssrc: z.number().int().min(0).max(0xffffffff) }).optional(),
        dtx: z.boolean().optional(),
        scalabilityMode: z.string().max(16).optional(),
        maxBitrate: z.number().int().positive().optional(),
      }),
    )
    .max(8)
    .optional(),
  rtcp: z.object({ cname: z.string().max(256).optional(), reducedSize: z.boolean().optional() }).optional(),
  msid: z.string().max(256).optional(),
});

export const dtlsParametersSchema = z.object({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z
    .array(z.object({ algorithm: z.enum(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']), value: z.string().min(1).max(256) }))
    .min(1)
    .max(8),
});

const iceParametersSchema = z.object({
  usernameFragment: z.string(),
  password: z.string(),
  iceLite: z.boolean().optional(),
});

const iceCandidateSchema = z.object({
  foundation: z.string(),
  priority: z.number(),
  ip: z.string(),
  address: z.string(),
  protocol: z.enum(['udp', 'tcp']),
  port: z.number().int(),
  type: z.literal('host'),
  tcpType: z.literal('passive').optional(),
});

export type RtpCapabilities = z.infer<typeof rtpCapabilitiesSchema>;
export type RtpParameters = z.infer<typeof rtpParametersSchema>;
export type DtlsParameters = z.infer<typeof dtlsParametersSchema>;
export type IceParameters = z.infer<typeof iceParametersSchema>;
export type IceCandidate = z.infer<typeof iceCandidateSchema>;

// ---------------------------------------------------------------------------------------------
// Placement: pc.v1.sfu.place

export const placeRequestSchema = z.object({ session: sessionIdSchema });
export const placeResultSchema = z.object({ node: nodeIdSchema });
export type PlaceRequest = z.infer<typeof placeRequestSchema>;
export type PlaceResult = z.infer<typeof placeResultSchema>;

// ---------------------------------------------------------------------------------------------
// RPC: pc.v1.sfu.<node>.rpc
//
// Every method names its session; a method on a transport, producer or consumer also names the
// peer that owns it, and the SFU refuses (not_found) an id that belongs to another session or peer,
// so a client can only touch its own media even if it learns someone else's ids.

const session = sessionIdSchema;
const peer = peerIdSchema;

export const rpcParamsSchemas = {
  /** The router's capabilities, for mediasoup-client's device.load(). */
  getRouterRtpCapabilities: z.object({ session }),
  /** A WebRTC transport for one peer: `send` (host/speaker microphone) or `recv` (listening). */
  createWebRtcTransport: z.object({ session, peer, direction: z.enum(['send', 'recv']) }),
  /** The browser's DTLS parameters (mediasoup-client transport 'connect' event). */
  connectTransport: z.object({ session, peer, transportId: msId, dtlsParameters: dtlsParametersSchema }),
  /** Audio only (mediasoup-client transport 'produce' event), on a `send` transport. */
  produce: z.object({ session, peer, transportId: msId, kind: z.literal('audio'), rtpParameters: rtpParametersSchema }),
  /** A consumer on a `recv` transport; created paused: call resumeConsumer once the client has it. */
  consume: z.object({ session, peer, transportId: msId, producerId: msId, rtpCapabilities: rtpCapabilitiesSchema }),
  resumeConsumer: z.object({ session, peer, consumerId: msId }),
  /** Closes every transport (and so producer and consumer) of the peer. Idempotent. */
  closePeer: z.object({ session, peer }),
  /** Closes the session's routers; publishes sessionClosed {reason:'closed'}. Idempotent. */
  closeSession: z.object({ session }),
  /**
   * A PlainTransport (comedia, RTCP-muxed) plus an Opus producer on it, for a server-side source
   * such as `polyglot publish`: send Opus RTP with the returned payload type and SSRC to ip:port.
   * `peer` defaults to a fresh `publisher-<random>` id; closePeer(peer) stops it.
   */
  createPlainPublisher: z.object({ session, peer: peer.optional() }),
  listProducers: z.object({ session }),
} as const;

const producerInfoSchema = z.object({ producerId: msId, peer, kind: mediaKind });
export type ProducerInfo = z.infer<typeof producerInfoSchema>;

const empty = z.object({});

export const rpcResultSchemas = {
  getRouterRtpCapabilities: z.object({ rtpCapabilities: rtpCapabilitiesSchema }),
  createWebRtcTransport: z.object({
    id: msId,
    iceParameters: iceParametersSchema,
    iceCandidates: z.array(iceCandidateSchema),
    dtlsParameters: dtlsParametersSchema,
  }),
  connectTransport: empty,
  produce: z.object({ producerId: msId }),
  consume: z.object({ consumerId: msId, producerId: msId, kind: mediaKind, rtpParameters: rtpParametersSchema, paused: z.boolean() }),
  resumeConsumer: empty,
  closePeer: empty,
  closeSession: empty,
  createPlainPublisher: z.object({
    peer,
    transportId: msId,
    producerId: msId,
    /** Where to send RTP (and RTCP: rtcp-mux). */
    ip: z.string(),
    port: z.number().int().min(1).max(65535),
    payloadType,
    ssrc: z.number().int().min(0).max(0xffffffff),
    clockRate: z.literal(48000),
    channels: z.literal(2),
  }),
  listProducers: z.object({ producers: z.array(producerInfoSchema) }),
} as const;

export type RpcMethod = keyof typeof rpcParamsSchemas;
export type RpcParams<M extends RpcMethod> = z.infer<(typeof rpcParamsSchemas)[M]>;
export type RpcResult<M extends RpcMethod> = z.infer<(typeof rpcResultSchemas)[M]>;
/** A decoded request: a union discriminated on `method`, so a switch narrows `params`. */
export type RpcRequest = { [M in RpcMethod]: { method: M; params: RpcParams<M> } }[RpcMethod];

// ---------------------------------------------------------------------------------------------
// Replies (placement and RPC alike)

/** `retryAfterMs`: a quota_exceeded error's hint (QuotaExceededError.retryAfterMs), when it has one. */
const errorBodySchema = z.object({ code: z.enum(POLYGLOT_ERROR_CODES), message: z.string(), retryAfterMs: z.number().int().min(0).optional() });
export type ErrorBody = z.infer<typeof errorBodySchema>;
export type Reply<T> = { ok: true; result: T } | { ok: false; error: ErrorBody };

const replyEnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorBodySchema }),
]);

// ---------------------------------------------------------------------------------------------
// Events: pc.v1.sfu.s.<session>.events and pc.v1.sfu.announce

const base = { v: z.literal(1), session, node: nodeIdSchema, at: z.number() };

export const sessionEventSchema = z.discriminatedUnion('type', [
  /** Tell viewers: a new audio source to consume. */
  z.object({ ...base, type: z.literal('producerAdded'), producerId: msId, peer, kind: mediaKind }),
  z.object({
    ...base,
    type: z.literal('producerClosed'),
    producerId: msId,
    peer,
    reason: z.enum(['closed', 'peer_closed', 'worker_died', 'session_closed']),
  }),
  /**
   * A mediasoup worker died and took these peers' transports (and their producers and consumers)
   * with it. The session lives on: each peer re-runs its media setup (new transports).
   */
  z.object({ ...base, type: z.literal('peersDisconnected'), peers: z.array(peer), reason: z.literal('worker_died') }),
  /**
   * All media of the session is gone. `closed`: closeSession was called. `shutdown`: the node is
   * going away; ask placement again and reconnect media. `worker_died`: the router holding the
   * session's producers died; the next RPC for the session starts a fresh router on this node.
   */
  z.object({ ...base, type: z.literal('sessionClosed'), reason: z.enum(['closed', 'shutdown', 'worker_died']) }),
]);
export type SessionEvent = z.infer<typeof sessionEventSchema>;

export const nodeMessageSchema = z.discriminatedUnion('type', [
  z.object({
    v: z.literal(1),
    type: z.literal('announce'),
    node: nodeIdSchema,
    at: z.number(),
    /** The next announcement is due within this; treat a node silent for 3 intervals as gone. */
    intervalMs: z.number().int().positive(),
    /**
     * New for every start of the node's process: another value under the same node id means the
     * process restarted and every session's media on it is gone (no sessionClosed was sent).
     */
    instance: z.string().min(1).max(64).optional(),
    load: z.object({
      workers: z.number().int().min(0),
      sessions: z.number().int().min(0),
      routers: z.number().int().min(0),
      consumers: z.number().int().min(0),
    }),
  }),
  z.object({ v: z.literal(1), type: z.literal('goaway'), node: nodeIdSchema, at: z.number() }),
]);
export type NodeMessage = z.infer<typeof nodeMessageSchema>;
export type NodeLoad = Extract<NodeMessage, { type: 'announce' }>['load'];

// ---------------------------------------------------------------------------------------------
// Decoders: the only way a payload on these subjects becomes a typed value

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

export function encode(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}

function parseJson(data: Uint8Array, what: string): unknown {
  try {
    const value: unknown = JSON.parse(textDecoder.decode(data));
    return value;
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not JSON`, err);
  }
}

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

function decodeWith<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`${what}: ${issues(parsed.error)}`);
  return parsed.data;
}

const requestEnvelopeSchema = z.object({ method: z.string(), params: z.unknown() });

function isMethod(name: string): name is RpcMethod {
  return Object.hasOwn(rpcParamsSchemas, name);
}

/** An RPC request body; throws InvalidArgumentError naming the bad field. */
export function decodeRpcRequest(data: Uint8Array): RpcRequest {
  const envelope = decodeWith(requestEnvelopeSchema, parseJson(data, 'request'), 'request');
  const { method } = envelope;
  if (!isMethod(method)) throw new InvalidArgumentError(`unknown method '${method}'`);
  return decodeParams(method, envelope.params);
}

function decodeParams(method: RpcMethod, params: unknown): RpcRequest {
  const what = `${method} params`;
  switch (method) {
    case 'getRouterRtpCapabilities':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'createWebRtcTransport':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'connectTransport':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'produce':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'consume':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'resumeConsumer':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'closePeer':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'closeSession':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'createPlainPublisher':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
    case 'listProducers':
      return { method, params: decodeWith(rpcParamsSchemas[method], params, what) };
  }
}

export function decodePlaceRequest(data: Uint8Array): PlaceRequest {
  return decodeWith(placeRequestSchema, parseJson(data, 'place request'), 'place request');
}

/**
 * A reply to `method` (or to placement, method 'place'): the result, or the reply's error turned
 * back into our error class. A reply that does not decode is an InternalError (a broken peer).
 */
export function decodeRpcReply<M extends RpcMethod>(method: M, data: Uint8Array): RpcResult<M>;
export function decodeRpcReply(method: 'place', data: Uint8Array): PlaceResult;
export function decodeRpcReply(method: RpcMethod | 'place', data: Uint8Array): unknown {
  const schema = method === 'place' ? placeResultSchema : rpcResultSchemas[method];
  let envelope: z.infer<typeof replyEnvelopeSchema>;
  try {
    envelope = decodeWith(replyEnvelopeSchema, parseJson(data, `${method} reply`), `${method} reply`);
  } catch (err) {
    throw new InternalError(`malformed ${method} reply`, err);
  }
  if (!envelope.ok) throw errorFromWire(envelope.error);
  const parsed = schema.safeParse(envelope.result);
  if (!parsed.success) throw new InternalError(`malformed ${method} result: ${issues(parsed.error)}`);
  return parsed.data;
}

export function decodeSessionEvent(data: Uint8Array): SessionEvent {
  return decodeWith(sessionEventSchema, parseJson(data, 'session event'), 'session event');
}

export function decodeNodeMessage(data: Uint8Array): NodeMessage {
  return decodeWith(nodeMessageSchema, parseJson(data, 'node message'), 'node message');
}

// ---------------------------------------------------------------------------------------------
// Errors on the wire: the one place where our classes and the reply codes meet

export function errorToWire(err: unknown): ErrorBody {
  if (err instanceof QuotaExceededError && err.retryAfterMs !== undefined) return { code: err.code, message: err.message, retryAfterMs: Math.max(0, Math.round(err.retryAfterMs)) };
  if (PolyglotError.is(err)) return { code: err.code, message: err.message };
  return { code: 'internal', message: 'internal error' };
}

function errorFromWire(body: ErrorBody): PolyglotError {
  return errorForCode(body.code, body.message, body.retryAfterMs);
}
