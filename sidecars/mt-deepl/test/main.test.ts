import * as grpc from '@grpc/grpc-js';
import tap from 'tap';
import { DeepLStandIn } from '../../../test/standins/DeepLStandIn.js';
import { startWorkerProcess } from '../../../test/standins/workerProcess.js';
import { useInfra } from '../../../core/test/support/infra.js';
import { deeplEnvSchema } from '../src/config.js';
import { loadContract, parseWorkerEnv, type TranslateResponse__Output } from '../../sdk/src/index.js';

tap.test('configuration: the key is required, the rest has defaults', async (t) => {
  t.throws(() => parseWorkerEnv(deeplEnvSchema, {}), /PC_DEEPL_AUTH_KEY/);
  const env = parseWorkerEnv(deeplEnvSchema, { PC_DEEPL_AUTH_KEY: 'k:fx', PC_MT_DEEPL_LANGUAGES: 'en, de ,pt-BR' });
  t.same(env.PC_MT_DEEPL_LANGUAGES, ['en', 'de', 'pt-BR']);
  t.equal(env.PC_DEEPL_ENGLISH_TARGET, 'en-US');
  t.throws(() => parseWorkerEnv(deeplEnvSchema, { PC_DEEPL_AUTH_KEY: 'k', PC_DEEPL_ENGLISH_TARGET: 'en' }), /PC_DEEPL_ENGLISH_TARGET/);
});

tap.test('main.ts: a worker process with its key from the environment translates, then stops on SIGTERM', async (t) => {
  const { PC_NATS_URL } = await useInfra();
  const standIn = await DeepLStandIn.start({ authKey: 'from-env:fx' });
  t.teardown(() => standIn.close());
  const worker = await startWorkerProcess(t, 'sidecars/mt-deepl/src/main.ts', {
    PC_NATS_URL,
    PC_DEEPL_AUTH_KEY: 'from-env:fx',
    PC_DEEPL_SERVER_URL: standIn.url,
    PC_MT_DEEPL_LANGUAGES: 'en,de',
  });
  const client = new (loadContract().Translator.Client)(worker.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const response = await new Promise<TranslateResponse__Output | undefined>((resolve, reject) =>
    client.translate({ texts: ['hello'], sourceLanguage: 'en', targetLanguages: ['de'], orgId: 'o' }, (err, res) => (err ? reject(err) : resolve(res))),
  );
  t.same(response?.results.map((r) => [r.text, r.engine]), [['[DE] hello', 'deepl']]);
  t.equal(standIn.translateCalls[0]?.authorization, 'DeepL-Auth-Key from-env:fx');
  t.equal(await worker.stop(), 0, 'clean exit');
});
