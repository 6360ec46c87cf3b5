import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { WorkerClient as _polyglot_v1_WorkerClient, WorkerDefinition as _polyglot_v1_WorkerDefinition } from './polyglot/v1/Worker.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  polyglot: {
    v1: {
      DescribeRequest: MessageTypeDefinition
      LanguagePair: MessageTypeDefinition
      /**
       * Describes a worker to the platform.
       */
      Worker: SubtypeConstructor<typeof grpc.Client, _polyglot_v1_WorkerClient> & { service: _polyglot_v1_WorkerDefinition }
      WorkerDescription: MessageTypeDefinition
      WorkerKind: EnumTypeDefinition
    }
  }
}

