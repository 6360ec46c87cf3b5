// A language worker beyond loopback serves only TLS: it refuses a plaintext bind, and with a
// certificate (made here with openssl) clients must verify it; with a CA, clients must present a
// certificate too (mutual TLS).
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import t from 'tap';

import type { TranslateResponse__Output, TranslatorClient } from '../../../proto/src/index.js';
import { createTranslationWorker, FakeTranslationEngine, InsecureBindError } from '../src/index.js';
import { contract, unary } from './calls.js';
import { selfSignedCertificate } from './testCertificates.js';
import { WorkerProcess } from './workerProcess.js';

const log = pino({ level: 'silent' });

function translate(mt: TranslatorClient): Promise<TranslateResponse__Output> {
  return unary<TranslateResponse__Output>((cb) =>
    mt.Translate({ texts: ['hello'], sourceLanguage: 'en', targetLanguages: ['fr'], orgId: 'o' }, { deadline: Date.now() + 5_000 }, cb),
  );
}

function translator(t: { teardown(fn: () => unknown): void }, address: string, credentials: grpc.ChannelCredentials): TranslatorClient {
  const c = new contract.Translator.Client(address, credentials);
  t.teardown(() => c.close());
  return c;
}

t.test('a worker bound beyond loopback without TLS refuses to start, saying what to set', async (t) => {
  for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
    await t.rejects(createTranslationWorker({ engine: new FakeTranslationEngine(), host, log, metricsPort: null }), InsecureBindError, `${host} is refused`);
  }
  const err = await createTranslationWorker({ engine: new FakeTranslationEngine(), host: '0.0.0.0', log, metricsPort: null }).catch((e: unknown) => e);
  t.match(String(err), /refusing to serve gRPC on 0\.0\.0\.0 without TLS.*PC_WORKER_TLS_CERT and PC_WORKER_TLS_KEY/);

  // The same as a process: it exits at once, the reason in its log.
  const proc = new WorkerProcess(t, 'sidecars/examples/mt-piglatin/src/main.ts', { PC_GRPC_HOST: '0.0.0.0', PC_METRICS_PORT: 'off', PC_NATS_URL: 'nats://127.0.0.1:9' });
  const { code } = await proc.exited;
  t.equal(code, 1, 'the worker process exits 1');
  t.match(proc.lines.join('\n'), 'refusing to serve gRPC on 0.0.0.0 without TLS', 'and logs why');
});

t.test('a TLS worker on 127.0.0.1: a client that verifies its certificate gets answers, a plaintext or unverifying one none', async (t) => {
  const server = await selfSignedCertificate(t);
  const other = await selfSignedCertificate(t);
  const worker = await createTranslationWorker({ engine: new FakeTranslationEngine(), log, metricsPort: null, tls: { cert: server.cert, key: server.key } });
  t.teardown(() => worker.shutdown());

  const verified = await translate(translator(t, worker.address, grpc.credentials.createSsl(server.cert)));
  t.equal(verified.results[0]?.text, '[fr] hello', 'a client with the CA translates');
  await t.rejects(translate(translator(t, worker.address, grpc.credentials.createInsecure())), { code: grpc.status.UNAVAILABLE }, 'plaintext gets nothing');
  await t.rejects(translate(translator(t, worker.address, grpc.credentials.createSsl(other.cert))), { code: grpc.status.UNAVAILABLE }, 'a client that trusts another CA refuses the worker');
});

t.test('mutual TLS: with PC_WORKER_TLS_CA the worker requires a client certificate it can verify', async (t) => {
  const server = await selfSignedCertificate(t);
  const platform = await selfSignedCertificate(t, 'polyglot-sfu');
  const stranger = await selfSignedCertificate(t, 'stranger');
  const worker = await createTranslationWorker({ engine: new FakeTranslationEngine(), log, metricsPort: null, tls: { cert: server.cert, key: server.key, ca: platform.cert } });
  t.teardown(() => worker.shutdown());

  await t.rejects(translate(translator(t, worker.address, grpc.credentials.createSsl(server.cert))), { code: grpc.status.UNAVAILABLE }, 'no client certificate: refused');
  await t.rejects(translate(translator(t, worker.address, grpc.credentials.createSsl(server.cert, stranger.key, stranger.cert))), { code: grpc.status.UNAVAILABLE }, 'a certificate of another CA: refused');
  const ok = await translate(translator(t, worker.address, grpc.credentials.createSsl(server.cert, platform.key, platform.cert)));
  t.equal(ok.results[0]?.text, '[fr] hello', 'the platform\'s certificate: served');
});
