import type { LanguageCode, SourceLanguageCode, TargetLanguageCode } from 'deepl-node';

// deepl-node types its language codes as string unions but exports no runtime list. These lists are
// checked against those unions (`satisfies`), so a BCP-47 tag becomes a DeepL code by lookup, with
// no cast. DeepL matches codes case-insensitively.
const COMMON = [
  'ace', 'af', 'an', 'ar', 'as', 'ay', 'az', 'ba', 'be', 'bg', 'bho', 'bn', 'br', 'bs', 'ca', 'ceb', 'ckb', 'cs', 'cy', 'da',
  'de', 'el', 'eo', 'es', 'et', 'eu', 'fa', 'fi', 'fr', 'ga', 'gl', 'gn', 'gom', 'gu', 'ha', 'he', 'hi', 'hr', 'ht', 'hu', 'hy',
  'id', 'ig', 'is', 'it', 'ja', 'jv', 'ka', 'kk', 'kmr', 'ko', 'ky', 'la', 'lb', 'lmo', 'ln', 'lt', 'lv', 'mai', 'mg', 'mi',
  'mk', 'ml', 'mn', 'mr', 'ms', 'mt', 'my', 'nb', 'ne', 'nl', 'oc', 'om', 'pa', 'pag', 'pam', 'pl', 'prs', 'ps', 'qu', 'ro',
  'ru', 'sa', 'scn', 'sk', 'sl', 'sq', 'sr', 'st', 'su', 'sv', 'sw', 'ta', 'te', 'tg', 'th', 'tk', 'tl', 'tn', 'tr', 'ts',
  'tt', 'uk', 'ur', 'uz', 'vi', 'wo', 'xh', 'yi', 'yue', 'zh', 'zu',
] as const satisfies readonly (SourceLanguageCode & TargetLanguageCode)[];

const SOURCES: readonly SourceLanguageCode[] = [...COMMON, 'en', 'pt'];
const REGIONAL_TARGETS = ['en-GB', 'en-US', 'es-419', 'pt-BR', 'pt-PT', 'zh-HANS', 'zh-HANT'] as const satisfies readonly TargetLanguageCode[];
const TARGETS: readonly TargetLanguageCode[] = [...COMMON, ...REGIONAL_TARGETS];

/** DeepL refuses bare `en` and `pt` as targets; these say which variant a bare tag means. */
export interface RegionalDefaults {
  en: 'en-US' | 'en-GB';
  pt: 'pt-BR' | 'pt-PT';
}

export const DEFAULT_REGIONAL: RegionalDefaults = { en: 'en-US', pt: 'pt-BR' };

function baseOf(tag: string): string {
  return (tag.split('-')[0] ?? tag).toLowerCase();
}

/** The DeepL source code for a BCP-47 tag (DeepL sources carry no region), or undefined. */
export function deeplSource(tag: string): SourceLanguageCode | undefined {
  const base = baseOf(tag);
  return SOURCES.find((code) => code === base);
}

/** The DeepL target code for a BCP-47 tag: an exact regional match, the configured variant of en/pt, or the bare language. */
export function deeplTarget(tag: string, regional: RegionalDefaults = DEFAULT_REGIONAL): TargetLanguageCode | undefined {
  const lower = tag.toLowerCase();
  const exact = TARGETS.find((code) => code.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const base = baseOf(tag);
  if (base === 'en') return regional.en;
  if (base === 'pt') return regional.pt;
  if (base === 'zh' && (lower.includes('hant') || lower === 'zh-tw' || lower === 'zh-hk')) return 'zh-HANT';
  return TARGETS.find((code) => code === base);
}

/** Glossaries are per base language on DeepL. */
export function deeplGlossaryLanguage(tag: string): LanguageCode | undefined {
  return deeplSource(tag);
}
