import { z } from 'zod';
import { BadRequestError } from './errors.js';

/**
 * Signaling-to-signaling messages about one session, on core NATS (never stored):
 *
 *   pc.v1.s.<session>.ctl   {v:1, type:'ended', session, node, at}
 *                           {v:1, type:'presence', session, node, viewers, langs?, at, ttlMs}
 *                           {v:1, type:'presenceQuery', session, node, at}
 *
 * `ended`: the host ended the session (REST), published by the node that handled the request;
 * every node closes that session's sockets. `presence`: a node's count of viewer sockets of the
 * session, sent on change and every heartbeat; a count older than its ttlMs is dropped (a node that
 * died); `langs` splits it by caption language (viewers that chose none count only in `viewers`;
 * optional, so a node of an older version is still counted). `presenceQuery`: a node just got its
 * first socket of the session and asks the others to send their counts now rather than at their
 * next heartbeat.
 */
export function controlSubject(session: string): string {
  return `pc.v1.s.${session}.ctl`;
}

const base = { v: z.literal(1), session: z.string().min(1).max(64), node: z.string().min(1).max(64), at: z.number() };
/** Viewers per caption language; keys are subject-safe language tags, as in the demand bucket. */
const viewersByLanguage = z
  .record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.number().int().min(0))
  .refine((r) => Object.keys(r).length <= 256, 'at most 256 languages');

export const controlEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('ended') }),
  z.object({ ...base, type: z.literal('presence'), viewers: z.number().int().min(0), langs: viewersByLanguage.optional(), ttlMs: z.number().int().positive() }),
  z.object({ ...base, type: z.literal('presenceQuery') }),
]);
export type ControlEvent = z.infer<typeof controlEventSchema>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeControlEvent(event: ControlEvent): Uint8Array {
  return encoder.encode(JSON.stringify(event));
}

/** Throws BadRequestError for anything that is not a v1 control event. */
export function decodeControlEvent(data: Uint8Array): ControlEvent {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new BadRequestError('control event is not JSON', 'bad_json', err);
  }
  const parsed = controlEventSchema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(`control event invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`, 'invalid_message');
  return parsed.data;
}
