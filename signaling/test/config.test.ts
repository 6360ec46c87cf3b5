import tap from 'tap';
import { ConfigError } from '../../core/src/config.js';
import { isLoopbackHost, parseSignalingConfig } from '../src/config.js';

const SECRET = 'a-real-secret-of-at-least-32-characters!';

tap.test('the development secret is refused on a non-loopback bind, naming the variables', async (t) => {
  for (const host of ['0.0.0.0', '192.168.1.20', '::']) {
    const err = t.throws(() => parseSignalingConfig({ PC_ENV: 'development', PC_HTTP_HOST: host }), host);
    t.type(err, ConfigError);
    t.match((err as Error).message, /PC_HTTP_HOST.*PC_ENV=development.*PC_JWT_SECRET/);
  }
  t.throws(() => parseSignalingConfig({ PC_ENV: 'development' }), /PC_HTTP_HOST=0\.0\.0\.0/, 'the default host is every interface');
  for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) {
    t.equal(parseSignalingConfig({ PC_ENV: 'development', PC_HTTP_HOST: host }).auth.devSecret, true, host);
  }
  const real = parseSignalingConfig({ PC_ENV: 'development', PC_HTTP_HOST: '0.0.0.0', PC_JWT_SECRET: SECRET });
  t.equal(real.auth.devSecret, false, 'a real secret may listen anywhere');
});

tap.test('JWKS mode requires issuer and audience', async (t) => {
  const jwks = 'https://idp.example/.well-known/jwks.json';
  const err = t.throws(() => parseSignalingConfig({ PC_JWKS_URL: jwks }));
  t.type(err, ConfigError);
  t.same((err as ConfigError).problems.map((p) => p.split(':')[0]), ['PC_JWT_ISSUER', 'PC_JWT_AUDIENCE']);
  t.throws(() => parseSignalingConfig({ PC_JWKS_URL: jwks, PC_JWT_ISSUER: 'https://idp.example' }), /PC_JWT_AUDIENCE: required/);
  const ok = parseSignalingConfig({ PC_JWKS_URL: jwks, PC_JWT_ISSUER: 'https://idp.example', PC_JWT_AUDIENCE: 'pc' });
  t.match(ok.auth, { jwksUrl: jwks, issuer: 'https://idp.example', audience: 'pc', secret: undefined });
});

tap.test('token lifetime and metrics bind: defaults and bounds', async (t) => {
  const cfg = parseSignalingConfig({ PC_JWT_SECRET: SECRET });
  t.equal(cfg.auth.maxLifetimeSeconds, 86_400);
  t.same(cfg.metrics, { host: '127.0.0.1', port: 9310 });
  t.equal(parseSignalingConfig({ PC_JWT_SECRET: SECRET, PC_JWT_MAX_LIFETIME_S: '3600' }).auth.maxLifetimeSeconds, 3600);
  t.throws(() => parseSignalingConfig({ PC_JWT_SECRET: SECRET, PC_JWT_MAX_LIFETIME_S: '10' }), /PC_JWT_MAX_LIFETIME_S/);
});

tap.test('a bad secret is named, never shown', async (t) => {
  const err = t.throws(() => parseSignalingConfig({ PC_JWT_SECRET: 'short-sekrit' }));
  t.match((err as Error).message, /PC_JWT_SECRET: must be at least 32/);
  t.notMatch((err as Error).message, /sekrit/);
});

tap.test('isLoopbackHost', async (t) => {
  t.ok(isLoopbackHost('127.0.0.1'));
  t.ok(isLoopbackHost('::ffff:127.0.0.1'));
  t.notOk(isLoopbackHost('127.0.0.1.example.com'));
  t.notOk(isLoopbackHost('localhost.example.com'));
  t.notOk(isLoopbackHost(''));
});
