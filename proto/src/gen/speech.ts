import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { SpeechToTextClient as _polyglot_v1_SpeechToTextClient, SpeechToTextDefinition as _polyglot_v1_SpeechToTextDefinition } from './polyglot/v1/SpeechToText.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  polyglot: {
    v1: {
      AudioEncoding: EnumTypeDefinition
      AudioRequest: MessageTypeDefinition
      RecognitionConfig: MessageTypeDefinition
      RecognitionEvent: MessageTypeDefinition
      /**
       * Live speech recognition over a bidirectional stream.
       */
      SpeechToText: SubtypeConstructor<typeof grpc.Client, _polyglot_v1_SpeechToTextClient> & { service: _polyglot_v1_SpeechToTextDefinition }
      WordTiming: MessageTypeDefinition
    }
  }
}

