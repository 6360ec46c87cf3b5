import path from 'node:path';
import t from 'tap';
import { ConfigError, parseConfig, portOf } from '../src/config.js';

t.test('defaults when nothing is set', async (t) => {
  const cfg = parseConfig({ HOME: '/home/u' }, '/repo');
  t.equal(cfg.natsUrl, 'nats://127.0.0.1:4222');
  t.equal(cfg.database.url, 'postgres://postgres@127.0.0.1:5432/polyglot');
  t.equal(cfg.database.poolMax, 10);
  t.equal(cfg.dataDir, '/repo/.data');
  t.equal(cfg.history.retentionDays, 30);
  t.equal(cfg.mediasoupWorkerBin, undefined);
  t.ok(path.isAbsolute(cfg.cacheDir));
});

t.test('values are parsed and typed', async (t) => {
  const cfg = parseConfig({ PC_DATABASE_POOL_MAX: '25', PC_DATA_DIR: '/srv/pc', PC_CACHE_DIR: '/c', PC_LOG_LEVEL: 'debug' }, '/repo');
  t.equal(cfg.database.poolMax, 25);
  t.equal(cfg.dataDir, '/srv/pc');
  t.equal(cfg.cacheDir, '/c');
  t.equal(cfg.logLevel, 'debug');
});

t.test('one error names every bad variable', async (t) => {
  const err = t.throws(() => parseConfig({ PC_NATS_URL: 'not a url', PC_DATABASE_POOL_MAX: '-3', PC_LOG_LEVEL: 'loud' }));
  t.type(err, ConfigError);
  const problems = (err as ConfigError).problems.join('\n');
  for (const key of ['PC_NATS_URL', 'PC_DATABASE_POOL_MAX', 'PC_LOG_LEVEL']) t.match(problems, key);
});

t.test('portOf reads the port of a service URL', async (t) => {
  t.equal(portOf('redis://127.0.0.1:6380', 6379), 6380);
  t.equal(portOf('redis://127.0.0.1', 6379), 6379);
});

t.test('language limits: a bound per session, and an optional allow list of canonical tags', async (t) => {
  t.same(parseConfig({}, '/repo').languages, { maxPerSession: 16, allowed: undefined });
  t.same(parseConfig({ PC_MAX_LANGUAGES_PER_SESSION: '4', PC_ALLOWED_LANGUAGES: 'ES, es-mx,fr,ES' }, '/repo').languages, { maxPerSession: 4, allowed: ['es', 'es-MX', 'fr'] });
  const err = t.throws(() => parseConfig({ PC_ALLOWED_LANGUAGES: 'es,es-1', PC_MAX_LANGUAGES_PER_SESSION: '0' }));
  t.type(err, ConfigError);
  const problems = err instanceof ConfigError ? err.problems.join('\n') : '';
  t.match(problems, /PC_ALLOWED_LANGUAGES: not BCP 47 language tags: es-1/);
  t.match(problems, /PC_MAX_LANGUAGES_PER_SESSION/);
});

t.test('a bad value never shows a password', async (t) => {
  const err = t.throws(() => parseConfig({ PC_NATS_PASSWORD: '', PC_DATABASE_URL: 'postgres://u:hunter2@' + 'x'.repeat(3) + ':99999999/db' }));
  const text = (err as ConfigError).message;
  t.notMatch(text, 'hunter2');
  t.match(text, 'PC_NATS_PASSWORD');
});

t.test('NATS credentials come from PC_NATS_USER, PC_NATS_PASSWORD and PC_NATS_CREDS_FILE', async (t) => {
  const cfg = parseConfig({ PC_NATS_USER: 'sfu', PC_NATS_PASSWORD: 'pw', PC_NATS_CREDS_FILE: '/etc/pc/sfu.creds' });
  t.same(cfg.natsAuth, { user: 'sfu', password: 'pw', credsFile: '/etc/pc/sfu.creds' });
});
