// Original file: proto/polyglot/v1/speech.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AudioRequest as _polyglot_v1_AudioRequest, AudioRequest__Output as _polyglot_v1_AudioRequest__Output } from '../../polyglot/v1/AudioRequest.js';
import type { RecognitionEvent as _polyglot_v1_RecognitionEvent, RecognitionEvent__Output as _polyglot_v1_RecognitionEvent__Output } from '../../polyglot/v1/RecognitionEvent.js';

/**
 * Live speech recognition over a bidirectional stream.
 */
export interface SpeechToTextClient extends grpc.Client {
  /**
   * Recognizes speech in a live audio stream.
   * 
   * Call sequence:
   * 1. The client sends exactly one AudioRequest carrying `config`.
   * 2. The client sends AudioRequests carrying `audio`, in order, at about
   * real-time pace (one ~100 ms chunk every ~100 ms).
   * 3. The server sends RecognitionEvents as speech is recognized: zero or
   * more interims, then one final, per utterance (segment).
   * 4. The client half-closes the stream when there is no more audio. The
   * server then sends a final for every segment that still has pending
   * interims and ends the call with OK.
   * 
   * Either side may cancel at any time; a cancelled stream delivers no
   * further events and its pending segments are lost.
   * 
   * Offsets (`start_ms`, `end_ms`) count from the first audio byte of this
   * stream and restart at 0 on every new stream. Segment ids are only
   * unique within one stream.
   * 
   * Stream length: a server accepts at least 270 000 ms of audio on one
   * stream. A server whose engine cannot go further may end a longer stream
   * with OUT_OF_RANGE after sending the finals it has. Clients that need
   * longer sessions rotate: open the next stream, switch the audio over to
   * it, then half-close the previous one so that it flushes its last finals.
   * 
   * Status codes returned by the server:
   * - OK: the client half-closed and every final was sent.
   * - INVALID_ARGUMENT: the first message is not `config`; a second `config`
   * arrives; `config` breaks a rule stated on RecognitionConfig (for
   * example `sample_rate_hz` is not 16000, `encoding` is not LINEAR16, a
   * required id is empty); an `audio` chunk is empty, has an odd length or
   * is longer than 25 600 bytes; the stream ends before `config` arrives.
   * - NOT_FOUND: the worker does not recognize `config.language` (see
   * RecognitionConfig.language for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * streams (WorkerDescription), or the engine's quota is used up. Retry
   * later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - OUT_OF_RANGE: the stream carried more audio than the worker takes on
   * one stream (see "Stream length").
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  StreamingRecognize(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_polyglot_v1_AudioRequest, _polyglot_v1_RecognitionEvent__Output>;
  StreamingRecognize(options?: grpc.CallOptions): grpc.ClientDuplexStream<_polyglot_v1_AudioRequest, _polyglot_v1_RecognitionEvent__Output>;
  /**
   * Recognizes speech in a live audio stream.
   * 
   * Call sequence:
   * 1. The client sends exactly one AudioRequest carrying `config`.
   * 2. The client sends AudioRequests carrying `audio`, in order, at about
   * real-time pace (one ~100 ms chunk every ~100 ms).
   * 3. The server sends RecognitionEvents as speech is recognized: zero or
   * more interims, then one final, per utterance (segment).
   * 4. The client half-closes the stream when there is no more audio. The
   * server then sends a final for every segment that still has pending
   * interims and ends the call with OK.
   * 
   * Either side may cancel at any time; a cancelled stream delivers no
   * further events and its pending segments are lost.
   * 
   * Offsets (`start_ms`, `end_ms`) count from the first audio byte of this
   * stream and restart at 0 on every new stream. Segment ids are only
   * unique within one stream.
   * 
   * Stream length: a server accepts at least 270 000 ms of audio on one
   * stream. A server whose engine cannot go further may end a longer stream
   * with OUT_OF_RANGE after sending the finals it has. Clients that need
   * longer sessions rotate: open the next stream, switch the audio over to
   * it, then half-close the previous one so that it flushes its last finals.
   * 
   * Status codes returned by the server:
   * - OK: the client half-closed and every final was sent.
   * - INVALID_ARGUMENT: the first message is not `config`; a second `config`
   * arrives; `config` breaks a rule stated on RecognitionConfig (for
   * example `sample_rate_hz` is not 16000, `encoding` is not LINEAR16, a
   * required id is empty); an `audio` chunk is empty, has an odd length or
   * is longer than 25 600 bytes; the stream ends before `config` arrives.
   * - NOT_FOUND: the worker does not recognize `config.language` (see
   * RecognitionConfig.language for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * streams (WorkerDescription), or the engine's quota is used up. Retry
   * later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - OUT_OF_RANGE: the stream carried more audio than the worker takes on
   * one stream (see "Stream length").
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  streamingRecognize(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_polyglot_v1_AudioRequest, _polyglot_v1_RecognitionEvent__Output>;
  streamingRecognize(options?: grpc.CallOptions): grpc.ClientDuplexStream<_polyglot_v1_AudioRequest, _polyglot_v1_RecognitionEvent__Output>;
  
}

/**
 * Live speech recognition over a bidirectional stream.
 */
export interface SpeechToTextHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Recognizes speech in a live audio stream.
   * 
   * Call sequence:
   * 1. The client sends exactly one AudioRequest carrying `config`.
   * 2. The client sends AudioRequests carrying `audio`, in order, at about
   * real-time pace (one ~100 ms chunk every ~100 ms).
   * 3. The server sends RecognitionEvents as speech is recognized: zero or
   * more interims, then one final, per utterance (segment).
   * 4. The client half-closes the stream when there is no more audio. The
   * server then sends a final for every segment that still has pending
   * interims and ends the call with OK.
   * 
   * Either side may cancel at any time; a cancelled stream delivers no
   * further events and its pending segments are lost.
   * 
   * Offsets (`start_ms`, `end_ms`) count from the first audio byte of this
   * stream and restart at 0 on every new stream. Segment ids are only
   * unique within one stream.
   * 
   * Stream length: a server accepts at least 270 000 ms of audio on one
   * stream. A server whose engine cannot go further may end a longer stream
   * with OUT_OF_RANGE after sending the finals it has. Clients that need
   * longer sessions rotate: open the next stream, switch the audio over to
   * it, then half-close the previous one so that it flushes its last finals.
   * 
   * Status codes returned by the server:
   * - OK: the client half-closed and every final was sent.
   * - INVALID_ARGUMENT: the first message is not `config`; a second `config`
   * arrives; `config` breaks a rule stated on RecognitionConfig (for
   * example `sample_rate_hz` is not 16000, `encoding` is not LINEAR16, a
   * required id is empty); an `audio` chunk is empty, has an odd length or
   * is longer than 25 600 bytes; the stream ends before `config` arrives.
   * - NOT_FOUND: the worker does not recognize `config.language` (see
   * RecognitionConfig.language for the matching rule).
   * - RESOURCE_EXHAUSTED: the worker already serves `max_concurrent_streams`
   * streams (WorkerDescription), or the engine's quota is used up. Retry
   * later or on another worker.
   * - UNAVAILABLE: the engine behind the worker is down or unreachable.
   * Retry, preferably on another worker.
   * - OUT_OF_RANGE: the stream carried more audio than the worker takes on
   * one stream (see "Stream length").
   * - DEADLINE_EXCEEDED: the client's deadline passed.
   * - CANCELLED: the client cancelled the call.
   * - INTERNAL: any other failure inside the worker.
   * 
   * Only RESOURCE_EXHAUSTED, UNAVAILABLE and DEADLINE_EXCEEDED are worth
   * retrying; the other codes fail the same way again.
   */
  StreamingRecognize: grpc.handleBidiStreamingCall<_polyglot_v1_AudioRequest__Output, _polyglot_v1_RecognitionEvent>;
  
}

export interface SpeechToTextDefinition extends grpc.ServiceDefinition {
  StreamingRecognize: MethodDefinition<_polyglot_v1_AudioRequest, _polyglot_v1_RecognitionEvent, _polyglot_v1_AudioRequest__Output, _polyglot_v1_RecognitionEvent__Output>
}
