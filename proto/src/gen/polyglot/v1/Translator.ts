// Original file: proto/polyglot/v1/translation.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { TranslateRequest as _polyglot_v1_TranslateRequest, TranslateRequest__Output as _polyglot_v1_TranslateRequest__Output } from '../../polyglot/v1/TranslateRequest.js';
import type { TranslateResponse as _polyglot_v1_TranslateResponse, TranslateResponse__Output as _polyglot_v1_TranslateResponse__Output } from '../../polyglot/v1/TranslateResponse.js';

/**
 * Machine translation of text batches.
 */
export interface TranslatorClient extends grpc.Client {
  /**
   * Translates every text of the request into every target language.
   * 
   * The call is all or nothing: it returns OK with one Translation per
   * (text, target) pair, or fails with one status and no results.
   * It has no side effects, so a client may retry it freely.
   * 
   * Limits: 1 to 128 texts; at most 65 536 bytes (64 KiB) of UTF-8 text in
   * total across `texts`; 1 to 64 distinct target languages.
   * 
   * Status codes returned by the server:
   * - OK: every pair was translated.
   * - INVALID_ARGUMENT: `texts` is empty or has more than 128 entries; the
   * texts total more than 65 536 bytes; `target_languages` is empty, has
   * more than 64 entries or repeats a tag; `org_id` is empty;
   * `source_language` is empty and the worker cannot detect languages;
   * `glossaries` breaks a rule stated on TranslateRequest.glossaries.
   * - NOT_FOUND: the worker does not translate one of the (source, target)
   * pairs (see TranslateRequest for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * calls (WorkerDescription), or the engine's quota or rate limit is used
   * up. Retry later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  Translate(argument: _polyglot_v1_TranslateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  Translate(argument: _polyglot_v1_TranslateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  Translate(argument: _polyglot_v1_TranslateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  Translate(argument: _polyglot_v1_TranslateRequest, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Translates every text of the request into every target language.
   * 
   * The call is all or nothing: it returns OK with one Translation per
   * (text, target) pair, or fails with one status and no results.
   * It has no side effects, so a client may retry it freely.
   * 
   * Limits: 1 to 128 texts; at most 65 536 bytes (64 KiB) of UTF-8 text in
   * total across `texts`; 1 to 64 distinct target languages.
   * 
   * Status codes returned by the server:
   * - OK: every pair was translated.
   * - INVALID_ARGUMENT: `texts` is empty or has more than 128 entries; the
   * texts total more than 65 536 bytes; `target_languages` is empty, has
   * more than 64 entries or repeats a tag; `org_id` is empty;
   * `source_language` is empty and the worker cannot detect languages;
   * `glossaries` breaks a rule stated on TranslateRequest.glossaries.
   * - NOT_FOUND: the worker does not translate one of the (source, target)
   * pairs (see TranslateRequest for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * calls (WorkerDescription), or the engine's quota or rate limit is used
   * up. Retry later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  translate(argument: _polyglot_v1_TranslateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  translate(argument: _polyglot_v1_TranslateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  translate(argument: _polyglot_v1_TranslateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  translate(argument: _polyglot_v1_TranslateRequest, callback: grpc.requestCallback<_polyglot_v1_TranslateResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Machine translation of text batches.
 */
export interface TranslatorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Translates every text of the request into every target language.
   * 
   * The call is all or nothing: it returns OK with one Translation per
   * (text, target) pair, or fails with one status and no results.
   * It has no side effects, so a client may retry it freely.
   * 
   * Limits: 1 to 128 texts; at most 65 536 bytes (64 KiB) of UTF-8 text in
   * total across `texts`; 1 to 64 distinct target languages.
   * 
   * Status codes returned by the server:
   * - OK: every pair was translated.
   * - INVALID_ARGUMENT: `texts` is empty or has more than 128 entries; the
   * texts total more than 65 536 bytes; `target_languages` is empty, has
   * more than 64 entries or repeats a tag; `org_id` is empty;
   * `source_language` is empty and the worker cannot detect languages;
   * `glossaries` breaks a rule stated on TranslateRequest.glossaries.
   * - NOT_FOUND: the worker does not translate one of the (source, target)
   * pairs (see TranslateRequest for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * calls (WorkerDescription), or the engine's quota or rate limit is used
   * up. Retry later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  Translate: grpc.handleUnaryCall<_polyglot_v1_TranslateRequest__Output, _polyglot_v1_TranslateResponse>;
  
}

export interface TranslatorDefinition extends grpc.ServiceDefinition {
  Translate: MethodDefinition<_polyglot_v1_TranslateRequest, _polyglot_v1_TranslateResponse, _polyglot_v1_TranslateRequest__Output, _polyglot_v1_TranslateResponse__Output>
}
