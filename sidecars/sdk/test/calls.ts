import * as grpc from '@grpc/grpc-js';

import {
  loadContract,
  type AudioRequest,
  type RecognitionConfig,
  type RecognitionEvent__Output,
  type SpeechToTextClient,
} from '../../../proto/src/index.js';

type Teardown = { teardown(fn: () => unknown): void };

export const contract = loadContract();

export function client<C extends grpc.Client>(t: Teardown, Client: new (address: string, credentials: grpc.ChannelCredentials) => C, address: string): C {
  const c = new Client(address, grpc.credentials.createInsecure());
  t.teardown(() => c.close());
  return c;
}

export function unary<Res>(invoke: (callback: (err: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, value) => {
      if (err) reject(err);
      else if (value === undefined) reject(new Error('no response and no error'));
      else resolve(value);
    });
  });
}

export const CONFIG: RecognitionConfig = {
  sessionId: 'session-1',
  trackId: 'track-1',
  orgId: 'org-1',
  language: 'en-US',
  sampleRateHz: 16_000,
  encoding: 'LINEAR16',
  interimResults: true,
};

/** 100 ms of silence. */
export const CHUNK: AudioRequest = { audio: Buffer.alloc(3_200) };

/**
 * A StreamingRecognize call with its events collected: `next(n)` resolves once n events arrived;
 * `done` resolves with the events at OK and rejects with the ServiceError otherwise.
 */
export function recognize(stt: SpeechToTextClient): {
  call: grpc.ClientDuplexStream<AudioRequest, RecognitionEvent__Output>;
  events: RecognitionEvent__Output[];
  next: (count: number) => Promise<RecognitionEvent__Output[]>;
  done: Promise<RecognitionEvent__Output[]>;
} {
  const call = stt.StreamingRecognize();
  const events: RecognitionEvent__Output[] = [];
  const waiters: { count: number; resolve: (events: RecognitionEvent__Output[]) => void; reject: (err: unknown) => void }[] = [];
  const done = new Promise<RecognitionEvent__Output[]>((resolve, reject) => {
    call.on('data', (event: RecognitionEvent__Output) => {
      events.push(event);
      for (const waiter of waiters.filter((w) => events.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve([...events]);
      }
    });
    call.on('error', (err) => {
      for (const waiter of waiters.splice(0)) waiter.reject(err);
      reject(err);
    });
    call.on('end', () => resolve(events));
  });
  // A test that expects a failure awaits `done` itself; this keeps an unawaited one from being unhandled.
  done.catch(() => undefined);
  const next = (count: number): Promise<RecognitionEvent__Output[]> =>
    events.length >= count ? Promise.resolve([...events]) : new Promise((resolve, reject) => waiters.push({ count, resolve, reject }));
  return { call, events, next, done };
}
