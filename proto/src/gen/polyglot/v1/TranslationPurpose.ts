// Original file: proto/polyglot/v1/translation.proto

/**
 * What a translation is used for.
 */
export const TranslationPurpose = {
  /**
   * Not set. Treated as LIVE.
   */
  PURPOSE_UNSPECIFIED: 'PURPOSE_UNSPECIFIED',
  /**
   * Live captions: lowest latency wins.
   */
  LIVE: 'LIVE',
  /**
   * Chat messages between participants.
   */
  CHAT: 'CHAT',
  /**
   * Documents and transcripts translated after the fact: quality over
   * latency.
   */
  DOCUMENT: 'DOCUMENT',
} as const;

/**
 * What a translation is used for.
 */
export type TranslationPurpose =
  /**
   * Not set. Treated as LIVE.
   */
  | 'PURPOSE_UNSPECIFIED'
  | 0
  /**
   * Live captions: lowest latency wins.
   */
  | 'LIVE'
  | 1
  /**
   * Chat messages between participants.
   */
  | 'CHAT'
  | 2
  /**
   * Documents and transcripts translated after the fact: quality over
   * latency.
   */
  | 'DOCUMENT'
  | 3

/**
 * What a translation is used for.
 */
export type TranslationPurpose__Output = typeof TranslationPurpose[keyof typeof TranslationPurpose]
