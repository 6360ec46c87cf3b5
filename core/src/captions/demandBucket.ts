import type { KV, NatsConnection } from 'nats';
import { z } from 'zod';
import { subjectTokenSchema } from '../subjects.js';

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

export const demandValueSchema = z.object({
  langs: z.array(subjectTokenSchema).max(256),
  /** Viewer sockets on that node reading each language (the hosts' per-language counts). */
  viewers: z.record(subjectTokenSchema, z.number().int().nonnegative()).optional(),
  /** Viewer sockets on that node, with or without a language (the hosts' viewer count). */
  viewerCount: z.number().int().nonnegative().optional(),
});

export type DemandValue = z.infer<typeof demandValueSchema>;

export async function openDemandBucket(nc: NatsConnection): Promise<KV> {
  return nc.jetstream().views.kv(DEMAND_BUCKET, { history: 1, ttl: DEMAND_TTL_MS * 4 });
}
