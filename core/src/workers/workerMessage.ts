// The worker registry's wire format (NATS, JSON). Workers publish it (RegistryAnnouncer in
// sidecars/sdk); the platform reads it (WorkerRegistry in sidecars/client, and signaling's view of
// the languages on offer, OfferedLanguages). One decoder, here, so they cannot disagree.
// Every worker announces itself on WORKER_ANNOUNCE_SUBJECT (core/src/subjects.ts) and says goodbye there.
import { z } from 'zod';
import { MAX_LANGUAGE_TAG_LENGTH, tryCanonicalLanguageTag } from '../languages/languageTag.js';

export const DEFAULT_ANNOUNCE_INTERVAL_MS = 2_000;

/** A worker is forgotten when no announcement arrived for this many intervals. */
export const TTL_INTERVALS = 3;

const workerKind = z.enum(['SPEECH_TO_TEXT', 'TRANSLATION']);
export type WorkerKindName = z.infer<typeof workerKind>;

// Language tags end up in caption subjects (pc.v1.s.<session>.cap.<lang>) and are compared with
// viewers' choices: canonical (core's languageTag), and a worker's unusable tag is dropped, not the
// worker (its other languages still serve).
const languageTag = z.string().max(MAX_LANGUAGE_TAG_LENGTH * 4);
const languagePair = z.object({ source: languageTag, target: languageTag });
const canonicalLanguages = z
  .array(languageTag)
  .default([])
  .transform((tags) => [...new Set(tags.flatMap((tag) => tryCanonicalLanguageTag(tag) ?? []))]);
const canonicalPairs = z
  .array(languagePair)
  .default([])
  .transform((pairs) => {
    const seen = new Map<string, { source: string; target: string }>();
    for (const pair of pairs) {
      const source = tryCanonicalLanguageTag(pair.source);
      const target = tryCanonicalLanguageTag(pair.target);
      if (source !== undefined && target !== undefined) seen.set(`${source}>${target}`, { source, target });
    }
    return [...seen.values()];
  });

const announce = z.object({
  v: z.literal(1),
  type: z.literal('announce'),
  id: z.string().min(1),
  kind: workerKind,
  engine: z.string().min(1),
  /** SPEECH_TO_TEXT: BCP-47 tags recognized. */
  languages: canonicalLanguages,
  /** TRANSLATION: directed pairs translated. */
  pairs: canonicalPairs,
  /** host:port of the gRPC server. */
  address: z.string().min(1),
  /** It serves TLS: clients verify its certificate (PC_WORKER_TLS_CA). A plaintext worker beyond loopback is never called. */
  tls: z.boolean().default(false),
  /** 0: no limit of its own. */
  maxStreams: z.number().int().min(0),
  activeStreams: z.number().int().min(0),
  /** Forget the worker when nothing was heard from it for this long. */
  ttlMs: z.number().int().positive(),
  /** False while the worker's engine is down (grpc.health NOT_SERVING): keep it, route nothing to it. */
  serving: z.boolean().default(true),
  version: z.string().default(''),
  /** Where Prometheus scrapes the worker, when it serves metrics. */
  metricsUrl: z.string().optional(),
});

const goodbye = z.object({
  v: z.literal(1),
  type: z.literal('goodbye'),
  id: z.string().min(1),
  kind: workerKind,
});

const workerMessage = z.discriminatedUnion('type', [announce, goodbye]);

/** What a live worker publishes every announce interval. */
export type WorkerAnnouncement = z.infer<typeof announce>;
/** What a worker publishes once when it shuts down; the registry drops it at once. */
export type WorkerGoodbye = z.infer<typeof goodbye>;
export type WorkerMessage = z.infer<typeof workerMessage>;

/** Input of encodeWorkerMessage: defaults may be left out. */
export type WorkerMessageInput = z.input<typeof workerMessage>;

export class WorkerMessageError extends Error {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
  }
}

/** Decodes one registry message; throws WorkerMessageError for anything malformed or of another version. */
export function decodeWorkerMessage(data: Uint8Array): WorkerMessage {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new WorkerMessageError('registry message is not JSON', { cause: err });
  }
  const parsed = workerMessage.safeParse(json);
  if (!parsed.success) {
    throw new WorkerMessageError(
      `registry message rejected: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

export function encodeWorkerMessage(message: WorkerMessageInput): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(workerMessage.parse(message)));
}
