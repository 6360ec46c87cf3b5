import type { KV, NatsConnection } from 'nats';
import { z } from 'zod';
import { tryCanonicalLanguageTag } from '../languages/languageTag.js';

/**
 * Language demand: per session and signaling node, the caption languages that node's sockets read
 * right now and its viewer counts, in a JetStream KV bucket. Keys are `<session>.<node>`. A node refreshes its entries
 * every DEMAND_REFRESH_MS; readers ignore entries older than DEMAND_TTL_MS, so a node that died
 * stops costing translations within that time. (The bucket's max_age only reclaims storage: on
 * nats-server 2.9 an expired entry produces no event a watcher could see.)
 */
export const DEMAND_BUCKET = 'pc_demand';
export const DEMAND_REFRESH_MS = 5_000;
export const DEMAND_TTL_MS = 15_000;

/**
 * Writers canonicalize (DemandBoard refuses a bad tag); readers still skip a bad language instead
 * of the node's whole entry, so one tag never takes a node's demand away from its other viewers.
 */
const languages = z
  .array(z.unknown())
  .max(256)
  .transform((values) => [...new Set(values.flatMap((v) => (typeof v === 'string' ? (tryCanonicalLanguageTag(v) ?? []) : [])))]);

const viewersByLanguage = z.record(z.string(), z.number().int().nonnegative()).transform((counts) => {
  const out: Record<string, number> = {};
  for (const [lang, n] of Object.entries(counts)) {
    const canonical = tryCanonicalLanguageTag(lang);
    if (canonical !== undefined) out[canonical] = (out[canonical] ?? 0) + n;
  }
  return out;
});

export const demandValueSchema = z.object({
  langs: languages,
  /** Viewer sockets on that node reading each language (the hosts' per-language counts). */
  viewers: viewersByLanguage.optional(),
  /** Viewer sockets on that node, with or without a language (the hosts' viewer count). */
  viewerCount: z.number().int().nonnegative().optional(),
});

export type DemandValue = z.output<typeof demandValueSchema>;

export async function openDemandBucket(nc: NatsConnection): Promise<KV> {
  return nc.jetstream().views.kv(DEMAND_BUCKET, { history: 1, ttl: DEMAND_TTL_MS * 4 });
}
