/**
 * NATS subjects of the caption flow (v1). Session ids and language tags become subject tokens, so
 * they are checked here: a '.', '*', '>' or space in one would address other sessions' subjects.
 */
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export class SubjectTokenError extends Error {
  constructor(what: string, value: string) {
    super(`${what} '${value}' cannot be used in a NATS subject (letters, digits, '-' and '_' only, at most 128)`);
    this.name = 'SubjectTokenError';
  }
}

function token(what: string, value: string): string {
  if (!TOKEN.test(value)) throw new SubjectTokenError(what, value);
  return value;
}

/** Final captions of one session in one language: stored in the JetStream stream for resume and history. */
export function finalCaptionSubject(session: string, lang: string): string {
  return `pc.v1.s.${token('session', session)}.cap.${token('language', lang)}`;
}

/** Interim captions: core NATS only, never stored. */
export function interimCaptionSubject(session: string, lang: string): string {
  return `pc.v1.s.${token('session', session)}.icap.${token('language', lang)}`;
}

/** Every final caption of every session: the stream's subject filter. */
export const ALL_FINAL_CAPTIONS = 'pc.v1.s.*.cap.*';

/** The JetStream message id that makes a republished caption a no-op within the duplicate window. */
export function captionMessageId(session: string, lang: string, seq: number): string {
  return `${session}:${lang}:${seq}`;
}
