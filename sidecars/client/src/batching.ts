// Batching: the texts one engine translates into several targets, in as few Translate calls as the
// contract's limits allow (usually one; more past 128 texts, 64 KiB or 64 targets), with the
// answers mapped back onto the caller's texts.
import {
  MAX_TARGET_LANGUAGES,
  MAX_TRANSLATE_TEXT_BYTES,
  MAX_TRANSLATE_TEXTS,
  TranslationPurpose as WirePurpose,
  type TranslateRequest,
} from '../../../proto/src/index.js';
import type { Glossary, TranslationPurpose } from '../../sdk/src/index.js';
import type { EngineCaller, EngineCallResult, EngineTranslation } from './EngineCaller.js';
import type { PickedTranslator } from './WorkerDirectory.js';

/** Every text into every target, on one engine. */
export interface BatchedTranslateRequest {
  texts: readonly string[];
  source: string;
  targets: readonly string[];
  orgId: string;
  purpose: TranslationPurpose;
  requestId: string;
  /** The glossaries of these targets (at most one per target). */
  glossaries: readonly Glossary[];
}

const WIRE_PURPOSE = { live: WirePurpose.LIVE, chat: WirePurpose.CHAT, document: WirePurpose.DOCUMENT } as const;

/**
 * Translates `request` on `worker` of `engine`: one call per batch, all at once. Succeeds with
 * every (text, target), `textIndex` into `request.texts`, or fails as a whole with the first
 * failed batch's outcome.
 */
export async function translateInBatches(
  caller: EngineCaller,
  engine: string,
  worker: PickedTranslator,
  request: BatchedTranslateRequest,
  signal?: AbortSignal,
): Promise<EngineCallResult> {
  const glossaries = request.glossaries.map((g) => ({
    orgId: g.orgId,
    targetLanguage: g.target,
    version: g.version,
    entries: g.entries.map((e) => ({ sourceTerm: e.sourceTerm, targetTerm: e.targetTerm })),
  }));
  const targetGroups = targetGroupsOf(request.targets);
  let offset = 0;
  const calls = batchesOf(request.texts).flatMap((texts) => {
    const first = offset;
    offset += texts.length;
    return targetGroups.map(async (targets) => {
      const wire: TranslateRequest = {
        texts,
        sourceLanguage: request.source,
        targetLanguages: targets,
        orgId: request.orgId,
        requestId: request.requestId,
        purpose: WIRE_PURPOSE[request.purpose],
        glossaries: glossaries.filter((g) => targets.includes(g.targetLanguage)),
      };
      return { first, result: await caller.translate(engine, worker, wire, signal) };
    });
  });
  const translations: EngineTranslation[] = [];
  for (const { first, result } of await Promise.all(calls)) {
    if (!result.ok) return result;
    for (const t of result.translations) translations.push({ ...t, textIndex: first + t.textIndex });
  }
  return { ok: true, translations };
}

/** Splits targets into groups the contract accepts in one call (64). */
export function targetGroupsOf(targets: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < targets.length; i += MAX_TARGET_LANGUAGES) groups.push(targets.slice(i, i + MAX_TARGET_LANGUAGES));
  return groups;
}

/** Splits texts into Translate calls within the contract's limits (128 texts, 64 KiB). */
export function batchesOf(texts: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const text of texts) {
    const size = Buffer.byteLength(text, 'utf8');
    if (current.length > 0 && (current.length >= MAX_TRANSLATE_TEXTS || bytes + size > MAX_TRANSLATE_TEXT_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(text);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
