// Local stand-in for Google Cloud Translation v3 TranslationService.TranslateText: plaintext gRPC on
// 127.0.0.1, messages encoded with the static protobuf classes @google-cloud/translate ships.
//
// Fake translation: `[<target>] <text>`. With glossaryConfig, each glossary term is replaced first
// and `glossaryTranslations` is filled, like the real API; an unknown glossary is NOT_FOUND and a
// glossary in `locations/global` is INVALID_ARGUMENT (Google refuses both). Tests script failures
// (`failNext`) and hangs (`hangNext`) and read `calls` to count what reached "Google".
import * as grpc from '@grpc/grpc-js';
import { protos } from '@google-cloud/translate';

const v3 = protos.google.cloud.translation.v3;
type TranslateTextRequest = protos.google.cloud.translation.v3.TranslateTextRequest;
type TranslateTextResponse = protos.google.cloud.translation.v3.ITranslateTextResponse;

const translationService = {
  translateText: {
    path: '/google.cloud.translation.v3.TranslationService/TranslateText',
    requestStream: false,
    responseStream: false,
    requestSerialize: (m: protos.google.cloud.translation.v3.ITranslateTextRequest) => Buffer.from(v3.TranslateTextRequest.encode(m).finish()),
    requestDeserialize: (b: Buffer): TranslateTextRequest => v3.TranslateTextRequest.decode(b),
    responseSerialize: (m: TranslateTextResponse) => Buffer.from(v3.TranslateTextResponse.encode(m).finish()),
    responseDeserialize: (b: Buffer) => v3.TranslateTextResponse.decode(b),
  },
} satisfies grpc.ServiceDefinition;

export interface TranslateCallRecord {
  parent: string;
  contents: string[];
  source: string;
  target: string;
  glossary: string | undefined;
  metadata: grpc.Metadata;
}

type Outcome = { kind: 'fail'; code: grpc.status; details: string } | { kind: 'hang' };

export class GoogleTranslateStandIn {
  readonly calls: TranslateCallRecord[] = [];
  /** Glossaries by full resource name: term -> replacement. */
  readonly glossaries = new Map<string, Map<string, string>>();
  readonly #server = new grpc.Server();
  readonly #script: Outcome[] = [];
  readonly #hung: (() => void)[] = [];
  #port = 0;

  private constructor() {
    this.#server.addService(translationService, {
      translateText: (call: grpc.ServerUnaryCall<TranslateTextRequest, TranslateTextResponse>, cb: grpc.sendUnaryData<TranslateTextResponse>) =>
        this.#translateText(call, cb),
    });
  }

  static async start(): Promise<GoogleTranslateStandIn> {
    const standIn = new GoogleTranslateStandIn();
    standIn.#port = await new Promise<number>((resolve, reject) =>
      standIn.#server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    return standIn;
  }

  get port(): number {
    return this.#port;
  }

  /** The next `times` calls fail with `code` (counted in `calls` all the same). */
  failNext(code: grpc.status, times = 1, details = `scripted ${grpc.status[code]}`): void {
    for (let i = 0; i < times; i++) this.#script.push({ kind: 'fail', code, details });
  }

  /** The next `times` calls never answer (until close()). */
  hangNext(times = 1): void {
    for (let i = 0; i < times; i++) this.#script.push({ kind: 'hang' });
  }

  close(): void {
    for (const release of this.#hung.splice(0)) release();
    this.#server.forceShutdown();
  }

  #translateText(call: grpc.ServerUnaryCall<TranslateTextRequest, TranslateTextResponse>, cb: grpc.sendUnaryData<TranslateTextResponse>): void {
    const r = call.request;
    const glossaryName = r.glossaryConfig?.glossary || undefined;
    this.calls.push({ parent: r.parent, contents: [...r.contents], source: r.sourceLanguageCode, target: r.targetLanguageCode, glossary: glossaryName, metadata: call.metadata });
    const next = this.#script.shift();
    if (next?.kind === 'fail') return cb({ code: next.code, details: next.details });
    if (next?.kind === 'hang') {
      this.#hung.push(() => cb({ code: grpc.status.UNAVAILABLE, details: 'stand-in closed' }));
      return;
    }
    if (!/^projects\/[^/]+(\/locations\/[^/]+)?$/.test(r.parent)) return cb({ code: grpc.status.INVALID_ARGUMENT, details: `Invalid 'parent': ${r.parent}` });
    if (!r.targetLanguageCode) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'Target language is required' });
    if (r.contents.length === 0) return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'contents is required' });
    const fake = (text: string) => `[${r.targetLanguageCode}] ${text}`;
    const translations = r.contents.map((text) => ({ translatedText: fake(text), detectedLanguageCode: r.sourceLanguageCode ? '' : 'en' }));
    if (glossaryName === undefined) return cb(null, { translations });
    const glossary = this.glossaries.get(glossaryName);
    if (!glossary) return cb({ code: grpc.status.NOT_FOUND, details: `Glossary not found: ${glossaryName}` });
    if (r.parent.endsWith('/locations/global') || !glossaryName.startsWith(`${r.parent}/`)) {
      return cb({ code: grpc.status.INVALID_ARGUMENT, details: 'Glossary location must match the request location (and cannot be global)' });
    }
    const ignoreCase = r.glossaryConfig?.ignoreCase === true;
    const applied = (text: string) => {
      let out = text;
      for (const [term, replacement] of glossary) out = out.replace(new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), ignoreCase ? 'gi' : 'g'), replacement);
      return out;
    };
    cb(null, {
      translations,
      glossaryTranslations: r.contents.map((text) => ({ translatedText: fake(applied(text)), glossaryConfig: r.glossaryConfig })),
    });
  }
}
