import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { ConfigError, parseConfig } from '../src/config.js';
import { logOptions } from '../src/logOptions.js';
import { describeValue, redactUrl } from '../src/secrets.js';

t.test('a bad URL variable names the variable but never its password', async (t) => {
  const err = t.throws(() => parseConfig({ PC_DATABASE_URL: 'postgres://app:hunter2-Secret@db:notaport/x y', PC_REDIS_URL: 'redis :// default:r3dis-pass@cache' }));
  t.type(err, ConfigError);
  const text = (err as ConfigError).message;
  t.match(text, /PC_DATABASE_URL/);
  t.match(text, /postgres:\/\/app:\*\*\*@db/);
  t.notMatch(text, /hunter2/);
  t.match(text, /PC_REDIS_URL/);
});

t.test('secret variables are never echoed, whatever their value', async (t) => {
  for (const name of ['PC_JWT_SECRET', 'PC_GOOGLE_CREDENTIALS_JSON', 'PC_GOOGLE_API_KEY', 'PC_DEEPL_AUTH_KEY', 'PC_NATS_PASSWORD', 'PC_NATS_TOKEN']) {
    const shown = describeValue(name, '{"private_key":"-----BEGIN sekrit');
    t.notMatch(shown, /sekrit/, name);
    t.match(shown, /not shown/, name);
  }
  t.equal(describeValue('PC_HTTP_PORT', 'abc'), '"abc"');
  t.equal(describeValue('PC_HTTP_PORT', undefined), 'unset');
});

t.test('redactUrl masks the password only', async (t) => {
  t.equal(redactUrl('nats://signaling:p4ss@127.0.0.1:4222'), 'nats://signaling:***@127.0.0.1:4222');
  t.equal(redactUrl('postgres://postgres@127.0.0.1:5432/polyglot'), 'postgres://postgres@127.0.0.1:5432/polyglot');
  t.equal(redactUrl('redis://:only-pass@h:6379'), 'redis://:***@h:6379');
});

t.test('the loggers redact authorization headers and tokens', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = pino(logOptions('info'), sink).child({ module: 'test' });
  log.warn({ req: { headers: { authorization: 'Bearer eyJ.tok.sig', host: 'h' } } }, 'request failed');
  log.warn({ frame: { type: 'auth', token: 'eyJ.frame.sig' } }, 'bad frame');
  log.warn({ token: 'eyJ.top.sig', secret: 'the-secret' }, 'refused');
  const text = lines.join('');
  t.equal(lines.length, 3);
  for (const leaked of ['eyJ.tok.sig', 'eyJ.frame.sig', 'eyJ.top.sig', 'the-secret']) t.notMatch(text, leaked);
  t.match(text, /\[redacted\]/);
  t.match(text, /"host":"h"/);
});
