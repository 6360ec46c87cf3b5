import tap from 'tap';
import { retryDelayMs } from '../src/retryDelay.js';
import { CircuitBreaker, type BreakerState } from '../src/CircuitBreaker.js';
import { parseTranslationClientEnv } from '../src/translationEnv.js';
import { ManualClock } from './ManualClock.js';

tap.test('backoff: exponential with equal jitter, capped', async (t) => {
  const opts = { baseDelayMs: 100, maxDelayMs: 1_000 };
  const table: [number, number, number][] = [
    // retry, random, delay
    [0, 0, 50],
    [0, 0.999, 99.95],
    [1, 0.5, 150],
    [2, 0, 200],
    [3, 1, 800],
    [4, 0, 500],
    [10, 0.5, 750],
  ];
  for (const [retry, random, delay] of table) t.equal(retryDelayMs(retry, opts, () => random), delay, `retry ${retry}, random ${random}`);
});

tap.test('breaker: closed -> open -> half-open (one probe) -> closed / open', async (t) => {
  const clock = new ManualClock();
  const changes: BreakerState[] = [];
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000, clock, onStateChange: (s) => changes.push(s) });
  breaker.onFailure();
  breaker.onFailure();
  breaker.onSuccess();
  breaker.onFailure();
  breaker.onFailure();
  t.equal(breaker.state, 'closed', 'a success resets the count');
  breaker.onFailure();
  t.equal(breaker.state, 'open');
  t.notOk(breaker.tryAcquire());
  clock.advance(999);
  t.notOk(breaker.admits);
  clock.advance(1);
  t.equal(breaker.state, 'half-open');
  t.ok(breaker.tryAcquire(), 'the probe');
  t.notOk(breaker.tryAcquire(), 'only one probe at a time');
  breaker.release();
  t.ok(breaker.tryAcquire(), 'a released probe slot can be taken again');
  breaker.onFailure();
  t.equal(breaker.state, 'open', 'a failed probe reopens at once');
  clock.advance(1_000);
  t.ok(breaker.tryAcquire());
  breaker.onSuccess();
  t.equal(breaker.state, 'closed');
  t.same(changes, ['open', 'half-open', 'open', 'half-open', 'closed']);
});

tap.test('client settings from the environment', async (t) => {
  const defaults = parseTranslationClientEnv({});
  t.same(defaults.chains, { default: ['google', 'deepl', 'apertium'], byPair: {} });
  t.same(defaults.call, { timeoutMs: 2_000, maxRetries: 2, baseDelayMs: 100, maxDelayMs: 1_000 });
  t.same(defaults.cacheTtlSeconds, { live: 3_600, chat: 86_400, document: 86_400 });
  const custom = parseTranslationClientEnv({ PC_TRANSLATION_ENGINES: 'deepl, google', PC_TRANSLATION_ENGINES_BY_PAIR: 'en>JA=deepl,google; de>fr=apertium' });
  t.same(custom.chains, { default: ['deepl', 'google'], byPair: { 'en>ja': ['deepl', 'google'], 'de>fr': ['apertium'] } });
  t.throws(() => parseTranslationClientEnv({ PC_TRANSLATION_ENGINES_BY_PAIR: 'en-ja=deepl' }), /source>target=engine/);
  t.throws(() => parseTranslationClientEnv({ PC_TRANSLATION_TIMEOUT_MS: 'soon' }), /PC_TRANSLATION_TIMEOUT_MS/);
});
