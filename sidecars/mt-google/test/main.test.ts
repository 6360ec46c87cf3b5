import * as grpc from '@grpc/grpc-js';
import tap from 'tap';
import { GoogleTranslateStandIn } from '../../../test/standins/GoogleTranslateStandIn.js';
import { startWorkerProcess } from '../../../test/standins/workerProcess.js';
import { useInfra } from '../../../core/test/support/infra.js';
import { loadContract, parseWorkerEnv, type TranslateResponse__Output } from '../../sdk/src/index.js';
import { googleClientOptions, googleTranslateEnvSchema } from '../src/config.js';

tap.test('configuration: project required, credentials JSON checked, endpoint override for stand-ins', async (t) => {
  t.throws(() => parseWorkerEnv(googleTranslateEnvSchema, {}), /PC_GOOGLE_PROJECT_ID/);
  t.throws(() => parseWorkerEnv(googleTranslateEnvSchema, { PC_GOOGLE_PROJECT_ID: 'p', PC_GOOGLE_CREDENTIALS_JSON: '{"type":"service_account"}' }), /client_email and private_key/);
  const env = parseWorkerEnv(googleTranslateEnvSchema, {
    PC_GOOGLE_PROJECT_ID: 'p',
    PC_GOOGLE_CREDENTIALS_JSON: JSON.stringify({ client_email: 'sa@p.iam.gserviceaccount.com', private_key: 'KEY', project_id: 'p' }),
  });
  t.match(googleClientOptions(env), { universeDomain: 'googleapis.com', credentials: { client_email: 'sa@p.iam.gserviceaccount.com', private_key: 'KEY' } });
  t.notOk('apiEndpoint' in googleClientOptions(env), 'the real endpoint unless overridden');
  t.throws(() => googleClientOptions({ ...env, PC_GOOGLE_PLAINTEXT: 'true' }), /PC_GOOGLE_ENDPOINT/);
});

tap.test('main.ts: a worker process on the endpoint from the environment translates, then stops on SIGTERM', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const standIn = await GoogleTranslateStandIn.start();
  t.teardown(() => standIn.close());
  const worker = await startWorkerProcess(t, 'sidecars/mt-google/src/main.ts', {
    PC_NATS_URL,
    PC_GOOGLE_PROJECT_ID: 'from-env',
    PC_GOOGLE_ENDPOINT: `127.0.0.1:${standIn.port}`,
    PC_GOOGLE_PLAINTEXT: 'true',
    PC_MT_GOOGLE_LANGUAGES: 'en,de',
  });
  const client = new (loadContract().Translator.Client)(worker.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await new Promise<TranslateResponse__Output | undefined>((resolve, reject) =>
    client.translate({ texts: ['hello'], sourceLanguage: 'en', targetLanguages: ['de'], orgId: 'o' }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  t.same(response?.results.map((r) => [r.text, r.engine]), [['[de] hello', 'google']]);
  t.equal(standIn.calls[0]?.parent, 'projects/from-env/locations/us-central1');
  t.equal(await worker.stop(), 0, 'clean exit');
});
