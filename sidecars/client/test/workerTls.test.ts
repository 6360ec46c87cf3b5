// The platform's side of worker TLS: the registry calls a TLS worker verifying its certificate,
// never routes to a plaintext worker beyond loopback, and leaves a TLS worker alone when it has
// no CA to verify it with.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';

import { loadContract, type TranslateResponse__Output } from '../../../proto/src/index.js';
import { encodeWorkerMessage, onceEvent, type WorkerMessageInput } from '../../sdk/src/index.js';
import { selfSignedCertificate } from '../../sdk/test/testCertificates.js';
import { natsConnection, useNats } from '../../sdk/test/useNats.js';
import { WorkerProcess } from '../../sdk/test/workerProcess.js';
import { WorkerRegistry, type WorkerClientTls } from '../src/index.js';

type Teardown = { teardown(fn: () => unknown): void };

async function startRegistry(t: Teardown, subject: string, tls?: WorkerClientTls) {
  const nats = await natsConnection(t);
  const registry = await WorkerRegistry.start({ nats, subject, ...(tls ? { tls } : {}) });
  t.teardown(() => registry.close());
  const announce = async (message: WorkerMessageInput): Promise<void> => {
    nats.publish(subject, encodeWorkerMessage(message));
    await nats.flush();
  };
  return { registry, announce };
}

const announcement = (id: string, address: string, tls: boolean): WorkerMessageInput => ({
  v: 1,
  type: 'announce',
  id,
  kind: 'TRANSLATION',
  engine: 'fake',
  pairs: [{ source: 'en', target: 'fr' }],
  address,
  tls,
  maxStreams: 0,
  activeStreams: 0,
  ttlMs: 60_000,
});

t.test('a TLS worker process is picked with credentials that verify its certificate, and answers over TLS', async (t) => {
  const cert = await selfSignedCertificate(t);
  const subject = `test.registry.${process.pid}.tls`;
  const { registry } = await startRegistry(t, subject, { ca: cert.cert });
  const added = onceEvent(registry, 'workerAdded');
  const worker = new WorkerProcess(t, 'sidecars/examples/mt-piglatin/src/main.ts', {
    PC_NATS_URL: await useNats(),
    PC_REGISTRY_SUBJECT: subject,
    PC_ANNOUNCE_INTERVAL_MS: '500',
    PC_METRICS_PORT: 'off',
    PC_WORKER_ID: 'piglatin-tls',
    PC_WORKER_TLS_CERT: cert.certFile,
    PC_WORKER_TLS_KEY: cert.keyFile,
  });
  const [[info]] = await Promise.all([added, worker.ready]);
  t.match(info, { id: 'piglatin-tls', tls: true }, 'the announcement says TLS');
  const picked = registry.pickTranslator({ source: 'en', target: 'en-x-piglatin' }, 'piglatin');
  t.ok(picked?.tls, 'the pick carries TLS credentials');
  const client = new (loadContract().Translator.Client)(picked?.address ?? '', picked?.tls ?? grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await new Promise<TranslateResponse__Output>((resolve, reject) =>
    client.Translate({ texts: ['Hello world'], sourceLanguage: 'en', targetLanguages: ['en-x-piglatin'], orgId: 'o' }, { deadline: Date.now() + 5_000 }, (err, value) =>
      err || !value ? reject(err ?? new Error('no response')) : resolve(value),
    ),
  );
  t.equal(response.results[0]?.text, 'Ellohay orldway', 'translated over a verified TLS channel');
});

t.test('plaintext beyond loopback is never used; TLS without a CA to verify it neither', async (t) => {
  const cert = await selfSignedCertificate(t);
  const subject = `test.registry.${process.pid}.refuse`;
  const withCa = await startRegistry(t, subject, { ca: cert.cert });
  const withoutCa = await startRegistry(t, `${subject}.noca`);
  // Announcements from one connection arrive in order: once the last is in, the earlier ones were decided.
  const lastWithCa = onceEvent(withCa.registry, 'workerAdded');
  await withCa.announce(announcement('remote-plain', '192.0.2.7:50051', false));
  await withCa.announce(announcement('remote-tls', '192.0.2.8:50051', true));
  await lastWithCa;
  const lastLocal = new Promise<void>((resolve) => withCa.registry.on('workerAdded', (w) => w.id === 'local-plain' && resolve()));
  await withCa.announce(announcement('local-plain', '127.0.0.1:50051', false));
  await lastLocal;
  const lastWithoutCa = onceEvent(withoutCa.registry, 'workerAdded');
  await withoutCa.announce(announcement('remote-tls', '192.0.2.8:50051', true));
  await withoutCa.announce(announcement('local-plain', '127.0.0.1:50052', false));
  await lastWithoutCa;
  const ids = (r: WorkerRegistry) => r.workers().map((w) => w.id).sort();
  t.same(ids(withCa.registry), ['local-plain', 'remote-tls'], 'the plaintext worker on another host is not used');
  t.same(ids(withoutCa.registry), ['local-plain'], 'without PC_WORKER_TLS_CA a TLS worker is not used');
});
