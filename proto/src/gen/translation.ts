import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { TranslatorClient as _polyglot_v1_TranslatorClient, TranslatorDefinition as _polyglot_v1_TranslatorDefinition } from './polyglot/v1/Translator.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  polyglot: {
    v1: {
      Glossary: MessageTypeDefinition
      GlossaryEntry: MessageTypeDefinition
      TranslateRequest: MessageTypeDefinition
      TranslateResponse: MessageTypeDefinition
      Translation: MessageTypeDefinition
      TranslationPurpose: EnumTypeDefinition
      /**
       * Machine translation of text batches.
       */
      Translator: SubtypeConstructor<typeof grpc.Client, _polyglot_v1_TranslatorClient> & { service: _polyglot_v1_TranslatorDefinition }
    }
  }
}

