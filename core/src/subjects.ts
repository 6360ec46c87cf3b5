/**
 * Every NATS subject of the platform (v1), in one place, with one rule for the tokens that go into
 * them. Session, peer, node ids and language tags become subject tokens: a '.', '*', '>' or space in
 * one would address other sessions' subjects, so every builder checks its tokens here and every
 * decoder of a payload that carries one uses `subjectTokenSchema`.
 *
 *   pc.v1.s.<session>.cap.<lang>     final captions (JetStream stream CAPTIONS, resume + history)
 *   pc.v1.s.<session>.icap.<lang>    interim captions (core NATS, never stored)
 *   pc.v1.s.<session>.lstat.<lang>   whether a caption language is being translated (core NATS)
 *   pc.v1.s.<session>.ctl            signaling-to-signaling control of a session (core NATS)
 *   pc.v1.sfu.place                  SFU placement request/reply
 *   pc.v1.sfu.announce               SFU nodes' load announcements and goodbyes
 *   pc.v1.sfu.<node>.rpc             request/reply to one SFU node
 *   pc.v1.sfu.s.<session>.events     what happened to a session's media
 *   pc.v1.workers.announce           language workers' registry announcements and goodbyes
 *
 * KV keys become subjects too (`$KV.<bucket>.<key>`), so demand keys are built here as well.
 * Who may publish and subscribe to each of these is in natsPermissions.ts, next door.
 */
import { z } from 'zod';

/** The longest token: enough for a UUID, a ULID or a long BCP 47 tag (35 characters in practice). */
export const MAX_SUBJECT_TOKEN_LENGTH = 64;
const TOKEN = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_SUBJECT_TOKEN_LENGTH}}$`);
const TOKEN_RULE = `letters, digits, '-' and '_' only, 1-${MAX_SUBJECT_TOKEN_LENGTH} characters`;

export class SubjectTokenError extends Error {
  constructor(what: string, value: string) {
    super(`${what} '${value.length > 80 ? `${value.slice(0, 80)}…` : value}' cannot be used in a NATS subject (${TOKEN_RULE})`);
    this.name = 'SubjectTokenError';
  }
}

export function isSubjectToken(value: string): boolean {
  return TOKEN.test(value);
}

/** Returns `value` when it is a valid subject token; throws SubjectTokenError naming `what` otherwise. */
export function subjectToken(what: string, value: string): string {
  if (!TOKEN.test(value)) throw new SubjectTokenError(what, value);
  return value;
}

/** The same rule for decoders of payloads that carry a token (zod). */
export const subjectTokenSchema = z.string().regex(TOKEN, `must be ${TOKEN_RULE}`);

// Captions

/** Final captions of one session in one language: stored in the JetStream stream for resume and history. */
export function finalCaptionSubject(session: string, lang: string): string {
  return `pc.v1.s.${subjectToken('session', session)}.cap.${subjectToken('language', lang)}`;
}

/** Interim captions: core NATS only, never stored. */
export function interimCaptionSubject(session: string, lang: string): string {
  return `pc.v1.s.${subjectToken('session', session)}.icap.${subjectToken('language', lang)}`;
}

/** The caption pipeline's word on one language: translated, or not and why (LanguageStatus.ts). */
export function languageStatusSubject(session: string, lang: string): string {
  return `pc.v1.s.${subjectToken('session', session)}.lstat.${subjectToken('language', lang)}`;
}

/** Every final caption of every session: the stream's subject filter. */
export const ALL_FINAL_CAPTIONS = 'pc.v1.s.*.cap.*';

/** Every interim caption of every session (permissions). */
export const ALL_INTERIM_CAPTIONS = 'pc.v1.s.*.icap.*';

/** Every caption language's translation status: the pipeline's word to the signaling nodes. */
export const ALL_LANGUAGE_STATUS = 'pc.v1.s.*.lstat.*';

/** The JetStream message id that makes a republished caption a no-op within the duplicate window. */
export function captionMessageId(session: string, lang: string, seq: number): string {
  return `${session}:${lang}:${seq}`;
}

// Signaling nodes

/** Signaling-to-signaling control messages about one session (session ended). */
export function sessionControlSubject(session: string): string {
  return `pc.v1.s.${subjectToken('session', session)}.ctl`;
}

/** Key of one signaling node's language demand for one session in the demand KV bucket. */
export function demandKey(session: string, node: string): string {
  return `${subjectToken('session', session)}.${subjectToken('node', node)}`;
}

/** Every session's control subject (permissions). */
export const ALL_SESSION_CONTROL = 'pc.v1.s.*.ctl';

// SFU

export const SFU_PLACE_SUBJECT = 'pc.v1.sfu.place';
export const SFU_ANNOUNCE_SUBJECT = 'pc.v1.sfu.announce';

export function sfuRpcSubject(node: string): string {
  return `pc.v1.sfu.${subjectToken('node', node)}.rpc`;
}

export function sfuSessionEventsSubject(session: string): string {
  return `pc.v1.sfu.s.${subjectToken('session', session)}.events`;
}

/** Every SFU node's RPC subject and every session's media events (permissions). */
export const ALL_SFU_RPC = 'pc.v1.sfu.*.rpc';
export const ALL_SFU_SESSION_EVENTS = 'pc.v1.sfu.s.*.events';

/** The KV bucket where SFU placement keeps which node serves a session. */
export const SFU_PLACEMENT_BUCKET = 'pc_sfu_placement';

// Language workers

export const WORKER_ANNOUNCE_SUBJECT = 'pc.v1.workers.announce';
