import { z } from 'zod';
import { subjectTokenSchema } from '../../core/src/subjects.js';
import { BadRequestError } from './errors.js';

/**
 * Signaling-to-signaling messages about one session, on core NATS (never stored), on
 * core/src/subjects.ts `sessionControlSubject`:
 *
 *   pc.v1.s.<session>.ctl   {v:1, type:'ended', session, node, at}
 *
 * `ended`: the host ended the session (REST), published by the node that handled the request;
 * every node closes that session's sockets. (Viewer counts across nodes travel in the demand
 * bucket, see SessionAudience.ts.)
 */
const controlEventSchema = z.object({ v: z.literal(1), type: z.literal('ended'), session: subjectTokenSchema, node: subjectTokenSchema, at: z.number() });
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
