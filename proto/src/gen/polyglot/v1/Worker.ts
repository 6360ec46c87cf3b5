// Original file: proto/polyglot/v1/worker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DescribeRequest as _polyglot_v1_DescribeRequest, DescribeRequest__Output as _polyglot_v1_DescribeRequest__Output } from '../../polyglot/v1/DescribeRequest.js';
import type { WorkerDescription as _polyglot_v1_WorkerDescription, WorkerDescription__Output as _polyglot_v1_WorkerDescription__Output } from '../../polyglot/v1/WorkerDescription.js';

/**
 * Describes a worker to the platform.
 */
export interface WorkerClient extends grpc.Client {
  /**
   * Returns what the worker does. The answer does not change while the
   * process runs, so callers may cache it per connection. Describe works
   * even while the worker's engine is down (health reports that instead).
   * 
   * Status codes returned by the server:
   * - OK: always, for a running worker.
   * - UNAVAILABLE: the worker is shutting down.
   */
  Describe(argument: _polyglot_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  Describe(argument: _polyglot_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  Describe(argument: _polyglot_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  Describe(argument: _polyglot_v1_DescribeRequest, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  /**
   * Returns what the worker does. The answer does not change while the
   * process runs, so callers may cache it per connection. Describe works
   * even while the worker's engine is down (health reports that instead).
   * 
   * Status codes returned by the server:
   * - OK: always, for a running worker.
   * - UNAVAILABLE: the worker is shutting down.
   */
  describe(argument: _polyglot_v1_DescribeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  describe(argument: _polyglot_v1_DescribeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  describe(argument: _polyglot_v1_DescribeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  describe(argument: _polyglot_v1_DescribeRequest, callback: grpc.requestCallback<_polyglot_v1_WorkerDescription__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Describes a worker to the platform.
 */
export interface WorkerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Returns what the worker does. The answer does not change while the
   * process runs, so callers may cache it per connection. Describe works
   * even while the worker's engine is down (health reports that instead).
   * 
   * Status codes returned by the server:
   * - OK: always, for a running worker.
   * - UNAVAILABLE: the worker is shutting down.
   */
  Describe: grpc.handleUnaryCall<_polyglot_v1_DescribeRequest__Output, _polyglot_v1_WorkerDescription>;
  
}

export interface WorkerDefinition extends grpc.ServiceDefinition {
  Describe: MethodDefinition<_polyglot_v1_DescribeRequest, _polyglot_v1_WorkerDescription, _polyglot_v1_DescribeRequest__Output, _polyglot_v1_WorkerDescription__Output>
}
