import { dirname } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Options, PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

import { ContractLoadError } from './errors.js';
import type { HealthClient, HealthDefinition } from './gen/grpc/health/v1/Health.js';
import type { SpeechToTextClient, SpeechToTextDefinition } from './gen/polyglot/v1/SpeechToText.js';
import type { TranslatorClient, TranslatorDefinition } from './gen/polyglot/v1/Translator.js';
import type { WorkerClient, WorkerDefinition } from './gen/polyglot/v1/Worker.js';
import { findProtoRoot } from './protoRoot.js';

/** Fully qualified service names; they are also the service names used in health checks. */
export const SERVICE_NAMES = {
  SpeechToText: 'polyglot.v1.SpeechToText',
  Translator: 'polyglot.v1.Translator',
  Worker: 'polyglot.v1.Worker',
  Health: 'grpc.health.v1.Health',
} as const;

/** A contract service a worker can implement and report health for. */
export type PolyglotServiceName =
  | typeof SERVICE_NAMES.SpeechToText
  | typeof SERVICE_NAMES.Translator
  | typeof SERVICE_NAMES.Worker;

/** Contract files, relative to the proto root. */
export const PROTO_FILES = [
  'polyglot/v1/speech.proto',
  'polyglot/v1/translation.proto',
  'polyglot/v1/worker.proto',
] as const;

/**
 * Decoding options. They must stay in step with the `gen:proto` script: the generated
 * `__Output` types describe exactly what proto-loader decodes with these options.
 */
export const LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} satisfies Options;

/** Constructor of a generated, typed client; the same arguments as `grpc.Client`. */
export type ClientConstructor<C extends grpc.Client> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => C;

/** One service of the contract: what a server registers and what a client instantiates. */
export interface ServiceBinding<D extends grpc.ServiceDefinition, C extends grpc.Client> {
  /** Fully qualified name, e.g. `polyglot.v1.SpeechToText`. */
  readonly name: string;
  /** Pass to `server.addService(service, handlers)`. */
  readonly service: D;
  /** `new Client(address, credentials)` gives a typed client. */
  readonly Client: ClientConstructor<C>;
}

export interface PolyglotContract {
  /** Directory the .proto files were loaded from. */
  readonly protoRoot: string;
  readonly SpeechToText: ServiceBinding<SpeechToTextDefinition, SpeechToTextClient>;
  readonly Translator: ServiceBinding<TranslatorDefinition, TranslatorClient>;
  readonly Worker: ServiceBinding<WorkerDefinition, WorkerClient>;
  /** Client side of grpc.health.v1; servers use `HealthService`. */
  readonly Health: ServiceBinding<HealthDefinition, HealthClient>;
}

export interface LoadContractOptions {
  /** Directory containing `polyglot/v1/*.proto`; found by `findProtoRoot()` when omitted. */
  readonly protoRoot?: string;
}

interface MethodShape {
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

const UNARY: MethodShape = { requestStream: false, responseStream: false };
const SERVER_STREAM: MethodShape = { requestStream: false, responseStream: true };
const BIDI_STREAM: MethodShape = { requestStream: true, responseStream: true };

// grpc-health-check ships health.proto and exposes its path; we load that copy instead of keeping our own.
const HEALTH_PROTO_FILE = 'health/v1/health.proto';
const HEALTH_PROTO_ROOT = dirname(dirname(dirname(healthProtoPath)));

const contracts = new Map<string, PolyglotContract>();

/**
 * Loads the contract and returns typed service definitions and client constructors.
 * Throws `ContractLoadError` when the files are missing or no longer match the generated types.
 * Loading is synchronous and done once per proto root.
 */
export function loadContract(options: LoadContractOptions = {}): PolyglotContract {
  const protoRoot = options.protoRoot ?? findProtoRoot();
  const cached = contracts.get(protoRoot);
  if (cached !== undefined) return cached;

  let pkg: PackageDefinition;
  try {
    pkg = loadSync([...PROTO_FILES, HEALTH_PROTO_FILE], {
      ...LOADER_OPTIONS,
      includeDirs: [protoRoot, HEALTH_PROTO_ROOT],
    });
  } catch (err) {
    throw new ContractLoadError(`cannot load the contract from ${protoRoot}`, { cause: err });
  }

  const contract: PolyglotContract = {
    protoRoot,
    SpeechToText: bindService<SpeechToTextDefinition, SpeechToTextClient>(pkg, SERVICE_NAMES.SpeechToText, {
      StreamingRecognize: BIDI_STREAM,
    }),
    Translator: bindService<TranslatorDefinition, TranslatorClient>(pkg, SERVICE_NAMES.Translator, {
      Translate: UNARY,
    }),
    Worker: bindService<WorkerDefinition, WorkerClient>(pkg, SERVICE_NAMES.Worker, { Describe: UNARY }),
    Health: bindService<HealthDefinition, HealthClient>(pkg, SERVICE_NAMES.Health, {
      Check: UNARY,
      Watch: SERVER_STREAM,
      List: UNARY,
    }),
  };
  contracts.set(protoRoot, contract);
  return contract;
}

/**
 * Narrows a loaded service to its generated types after checking, at run time, that the
 * loaded .proto declares exactly the methods (paths and streaming) the generated types were
 * built from. proto-loader returns untyped definitions; this check is what stands in for a cast.
 */
function bindService<D extends grpc.ServiceDefinition, C extends grpc.Client>(
  pkg: PackageDefinition,
  name: string,
  methods: Readonly<Record<string, MethodShape>>,
): ServiceBinding<D, C> {
  const service = pkg[name];
  if (!declaresMethods<D>(service, name, methods)) {
    throw new ContractLoadError(
      `${name} in the loaded .proto files does not declare exactly ${Object.keys(methods).join(', ')}; ` +
        'regenerate the types with `npm run gen:proto`',
    );
  }
  const Client = grpc.makeClientConstructor(service, name);
  if (!constructsClientFor<C>(Client, methods)) {
    throw new ContractLoadError(`client for ${name} lacks one of ${Object.keys(methods).join(', ')}`);
  }
  return { name, service, Client };
}

function declaresMethods<D extends grpc.ServiceDefinition>(
  value: unknown,
  name: string,
  methods: Readonly<Record<string, MethodShape>>,
): value is D {
  if (typeof value !== 'object' || value === null) return false;
  const expected = Object.entries(methods);
  if (Object.keys(value).length !== expected.length) return false;
  return expected.every(([method, shape]) => {
    const definition: unknown = Reflect.get(value, method);
    return (
      typeof definition === 'object' &&
      definition !== null &&
      Reflect.get(definition, 'path') === `/${name}/${method}` &&
      Reflect.get(definition, 'requestStream') === shape.requestStream &&
      Reflect.get(definition, 'responseStream') === shape.responseStream &&
      typeof Reflect.get(definition, 'requestSerialize') === 'function' &&
      typeof Reflect.get(definition, 'responseDeserialize') === 'function'
    );
  });
}

function constructsClientFor<C extends grpc.Client>(
  ctor: grpc.ServiceClientConstructor,
  methods: Readonly<Record<string, MethodShape>>,
): ctor is grpc.ServiceClientConstructor & ClientConstructor<C> {
  const prototype: unknown = Reflect.get(ctor, 'prototype');
  if (typeof prototype !== 'object' || prototype === null) return false;
  // Generated client interfaces declare each method twice: as in the .proto and in lowerCamelCase.
  return Object.keys(methods).every(
    (method) =>
      typeof Reflect.get(prototype, method) === 'function' &&
      typeof Reflect.get(prototype, method.charAt(0).toLowerCase() + method.slice(1)) === 'function',
  );
}
