/**
 * The WebSocket protocol between browsers and a signaling node, v1 (docs/protocol.md is the prose
 * version; keep the two in step). Every client message is a JSON object with a `type`; a request
 * may carry an `id`, echoed in its reply or error frame. Each message type has exactly one zod
 * decoder here, and a frame is only ever turned into a typed value by decodeClientMessage().
 *
 * Browser-safe: the web pages import the server-message decoders from this file too.
 */
import { z } from 'zod';
import { languageTagSchema } from '../../core/src/languages/languageTag.js';
import { UNTRANSLATABLE_REASONS } from '../../core/src/captions/LanguageStatus.js';
import { dtlsParametersSchema, rpcResultSchemas, rtpCapabilitiesSchema, rtpParametersSchema } from '../../core/src/sfu/rpcProtocol.js';
import { ERROR_FRAME_CODES } from './closeCodes.js';
import { BadRequestError } from './errors.js';

/** Text frames larger than this get a `message_too_large` error frame (the socket stays open). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const requestId = z.union([z.string().min(1).max(64), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]);
export type RequestId = z.infer<typeof requestId>;
const msId = z.string().uuid();
const jwt = z.string().min(1).max(8192);
/** A final caption's seq as a client states it: -1 ("before the first") or a seq. */
const captionSeqSchema = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);

function clientMessage<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ type: z.literal(type), id: requestId.optional(), ...shape }).strict();
}

export const clientMessageSchemas = {
  /** The first message on every socket, within the auth deadline. */
  auth: clientMessage('auth', { token: jwt }),
  /** A new token for the same sub, org, session and role, before the current one expires. */
  refresh: clientMessage('refresh', { token: jwt }),
  ping: clientMessage('ping', {}),
  /**
   * The caption language this socket reads (join, or switch without reconnecting); captions-only
   * viewers need nothing else. `afterSeq`: the last final seq this client has of `language`; the
   * finals after it are replayed first (-1: every final of the session so far). Unset: live only.
   */
  setLanguage: clientMessage('setLanguage', { language: languageTagSchema, afterSeq: captionSeqSchema.optional() }),
  /** Media: the router's RTP capabilities and the producers to consume. */
  join: clientMessage('join', {}),
  createTransport: clientMessage('createTransport', { direction: z.enum(['send', 'recv']) }),
  connectTransport: clientMessage('connectTransport', { transportId: msId, dtlsParameters: dtlsParametersSchema }),
  produce: clientMessage('produce', { transportId: msId, kind: z.literal('audio'), rtpParameters: rtpParametersSchema }),
  consume: clientMessage('consume', { transportId: msId, producerId: msId, rtpCapabilities: rtpCapabilitiesSchema }),
  resume: clientMessage('resume', { consumerId: msId }),
  /** Closes every transport of this socket (stop publishing, stop listening); idempotent. */
  leaveMedia: clientMessage('leaveMedia', {}),
} as const;

export type ClientMessageType = keyof typeof clientMessageSchemas;
export type ClientMessageOf<T extends ClientMessageType> = z.infer<(typeof clientMessageSchemas)[T]>;
export type ClientMessage = { [T in ClientMessageType]: ClientMessageOf<T> }[ClientMessageType];

const envelopeSchema = z.object({ type: z.string().max(64), id: z.unknown().optional() });

function isClientMessageType(type: string): type is ClientMessageType {
  return Object.hasOwn(clientMessageSchemas, type);
}

function describeIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
    .join('; ');
}

/** The request id of a frame that failed to decode, if one can be salvaged, for its error frame. */
function salvageRequestId(value: unknown): RequestId | undefined {
  if (typeof value !== 'object' || value === null || !('id' in value)) return undefined;
  const parsed = requestId.safeParse(value.id);
  return parsed.success ? parsed.data : undefined;
}

/** A decoded frame: the message, or why it was refused plus the request id it carried, if usable. */
export type DecodedFrame = { ok: true; message: ClientMessage } | { ok: false; error: BadRequestError; requestId: RequestId | undefined };

/**
 * One text frame as a typed client message, or a BadRequestError with reason bad_json,
 * unknown_type or invalid_message.
 */
export function decodeClientMessage(text: string): DecodedFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: new BadRequestError('message is not valid JSON', 'bad_json', err), requestId: undefined };
  }
  const fail = (message: string, reason: 'unknown_type' | 'invalid_message'): DecodedFrame => ({
    ok: false,
    error: new BadRequestError(message, reason),
    requestId: salvageRequestId(value),
  });
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) return fail(`message must be an object with a string type: ${describeIssues(envelope.error)}`, 'invalid_message');
  const { type } = envelope.data;
  if (!isClientMessageType(type)) return fail(`unknown message type '${type}'`, 'unknown_type');
  const parsed = clientMessageSchemas[type].safeParse(value);
  if (!parsed.success) return fail(`${type}: ${describeIssues(parsed.error)}`, 'invalid_message');
  return { ok: true, message: parsed.data };
}

// ---------------------------------------------------------------------------------------------
// Server -> client

const replyId = { id: requestId.optional() };
const role = z.enum(['host', 'speaker', 'viewer']);
const sessionStatus = z.enum(['scheduled', 'live', 'ended']);
const producerSchema = z.object({ producerId: msId, kind: z.enum(['audio', 'video']) });
const transportInfo = rpcResultSchemas.createWebRtcTransport;

function serverMessage<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ type: z.literal(type), ...shape });
}

export const serverMessageSchemas = {
  welcome: serverMessage('welcome', {
    ...replyId,
    connectionId: z.string(),
    session: z.object({ id: z.string(), title: z.string(), sourceLanguage: z.string(), status: sessionStatus }),
    role,
    sub: z.string(),
    name: z.string(),
    /** Milliseconds since the epoch; refresh before then or the socket closes with 4401. */
    expiresAt: z.number(),
    limits: z.object({ maxMessageBytes: z.number().int() }),
  }),
  refreshed: serverMessage('refreshed', { ...replyId, expiresAt: z.number() }),
  pong: serverMessage('pong', { ...replyId }),
  languageSet: serverMessage('languageSet', { ...replyId, language: z.string() }),
  joined: serverMessage('joined', { ...replyId, routerRtpCapabilities: rtpCapabilitiesSchema, producers: z.array(producerSchema) }),
  transportCreated: serverMessage('transportCreated', {
    ...replyId,
    transportId: msId,
    iceParameters: transportInfo.shape.iceParameters,
    iceCandidates: transportInfo.shape.iceCandidates,
    dtlsParameters: transportInfo.shape.dtlsParameters,
  }),
  transportConnected: serverMessage('transportConnected', { ...replyId, transportId: msId }),
  produced: serverMessage('produced', { ...replyId, producerId: msId }),
  consumed: serverMessage('consumed', {
    ...replyId,
    consumerId: msId,
    producerId: msId,
    kind: z.enum(['audio', 'video']),
    rtpParameters: rtpParametersSchema,
  }),
  resumed: serverMessage('resumed', { ...replyId, consumerId: msId }),
  mediaLeft: serverMessage('mediaLeft', { ...replyId }),
  /** Pushed: a host or speaker started publishing; consume it. */
  producerAdded: serverMessage('producerAdded', producerSchema.shape),
  /** Pushed: that producer is gone (stopped, disconnected). */
  producerClosed: serverMessage('producerClosed', { producerId: msId }),
  /** Pushed: this socket's transports are gone (media server restart); run join again. */
  mediaReset: serverMessage('mediaReset', { reason: z.string() }),
  /**
   * Pushed to hosts and speakers: viewers connected to the session, across every node, and how many
   * of them read each caption language (viewers that chose none yet count only in `count`).
   */
  viewerCount: serverMessage('viewerCount', { count: z.number().int().min(0), byLanguage: z.record(z.string(), z.number().int().min(0)) }),
  /**
   * Pushed: one caption of the socket's language (setLanguage). An interim (`final: false`) is
   * replaced by the next caption of the same `segment`; a final is never sent twice and its `seq`
   * is what a client sends as `afterSeq` to resume. Times are milliseconds since the epoch.
   */
  caption: serverMessage('caption', {
    lang: z.string(),
    seq: z.number().int().min(0),
    segment: z.string(),
    final: z.boolean(),
    text: z.string(),
    speaker: z.string().nullable(),
    speakerName: z.string().nullable(),
    startMs: z.number(),
    endMs: z.number(),
    /** When the speech of this segment ended. */
    audioEndAt: z.number(),
    /** When the caption pipeline published it. */
    publishedAt: z.number(),
  }),
  /**
   * Pushed once per setLanguage, in order among the captions: the socket has caught up (every
   * final of `lang` up to `seq` was sent before this); what follows is live. -1: none yet.
   */
  captionsLive: serverMessage('captionsLive', { lang: z.string(), seq: z.number().int().min(-1) }),
  /**
   * Pushed, in order among the captions of `lang`: the platform cannot translate this language now
   * (`untranslatable`, with the reason: `no_engine` no engine could be tried, `engine_failed` every
   * engine failed, `language_limit` the session has its maximum of languages), or can again
   * (`translating`; its captions follow). Sent on a change, and with captionsLive while it lasts.
   */
  languageStatus: serverMessage('languageStatus', {
    lang: z.string(),
    state: z.enum(['translating', 'untranslatable']),
    reason: z.enum(UNTRANSLATABLE_REASONS).optional(),
  }),
  /** Pushed: the host ended the session; the socket then closes with 4410. */
  sessionEnded: serverMessage('sessionEnded', { reason: z.string() }),
  /** Pushed: this node is shutting down; reconnect (to any node) after about reconnectInMs. */
  goaway: serverMessage('goaway', { reason: z.string(), reconnectInMs: z.number().int().min(0) }),
  error: serverMessage('error', { ...replyId, code: z.enum(ERROR_FRAME_CODES), message: z.string(), retryAfterMs: z.number().int().min(0).optional() }),
} as const;

export type ServerMessageType = keyof typeof serverMessageSchemas;
export type ServerMessageOf<T extends ServerMessageType> = z.infer<(typeof serverMessageSchemas)[T]>;
export type ServerMessage = { [T in ServerMessageType]: ServerMessageOf<T> }[ServerMessageType];

function isServerMessageType(type: string): type is ServerMessageType {
  return Object.hasOwn(serverMessageSchemas, type);
}

/** Narrows a decoded server message by its type (TypeScript cannot narrow a generic `T` on its own). */
export function isServerMessageOf<T extends ServerMessageType>(message: ServerMessage, type: T): message is ServerMessageOf<T> {
  return message.type === type;
}

/** For clients (web pages, tests): one server frame as a typed message; throws on anything else. */
export function decodeServerMessage(text: string): ServerMessage {
  const value: unknown = JSON.parse(text);
  const envelope = envelopeSchema.parse(value);
  if (!isServerMessageType(envelope.type)) throw new TypeError(`unknown server message type '${envelope.type}'`);
  return serverMessageSchemas[envelope.type].parse(value);
}
