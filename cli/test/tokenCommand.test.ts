import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import tap from 'tap';
import { tokenCommand } from '../src/tokenCommand.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';
import { DEV_JWT_SECRET } from '../../signaling/src/devToken.js';
import { TokenVerifier } from '../../signaling/src/TokenVerifier.js';
import { TEST_SECRET } from '../../signaling/test/fixtures/signaling.js';

const run = promisify(execFile);

async function polyglot(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env, PC_LOG_LEVEL: 'warn' };
  delete base.PC_JWT_SECRET;
  delete base.PC_ENV;
  delete base.PC_JWKS_URL;
  try {
    const { stdout, stderr } = await run(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), ...args], { env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

tap.test('polyglot token prints an HS256 token the signaling node accepts', async (t) => {
  const org = randomUUID();
  const session = randomUUID();
  const res = await polyglot(['token', '--org', org, '--session', session, '--role', 'host', '--name', 'Hana', '--ttl', '120'], { PC_JWT_SECRET: TEST_SECRET });
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stderr, '');
  const lines = res.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'the token and nothing else on stdout');
  const principal = await new TokenVerifier({ secret: TEST_SECRET }).verify(lines[0] ?? '');
  t.match(principal, { org, session, role: 'host', name: 'Hana', sub: 'dev-host' });
  const ttlMs = principal.expiresAtMs - Date.now();
  t.ok(ttlMs > 100_000 && ttlMs <= 120_000, `expires in ${ttlMs} ms`);
});

tap.test('polyglot token refuses to run without a secret, except in development', async (t) => {
  const org = randomUUID();
  const refused = await polyglot(['token', '--org', org, '--role', 'viewer'], {});
  t.equal(refused.code, 2);
  t.match(refused.stderr, /PC_JWT_SECRET is not set/);
  t.equal(refused.stdout, '');

  const dev = await polyglot(['token', '--org', org, '--role', 'viewer'], { PC_ENV: 'development' });
  t.equal(dev.code, 0);
  t.match(dev.stderr, /development secret/);
  t.match(await new TokenVerifier({ secret: DEV_JWT_SECRET }).verify(dev.stdout.trim()), { org, role: 'viewer', session: undefined });

  const short = await polyglot(['token', '--org', org, '--role', 'viewer'], { PC_JWT_SECRET: 'short' });
  t.equal(short.code, 2);
  t.match(short.stderr, /PC_JWT_SECRET: must be at least 32/);
});

tap.test('polyglot token validates its arguments', async (t) => {
  // In process: the command's own checks, without a process start per case.
  const env = { PC_JWT_SECRET: TEST_SECRET };
  const org = randomUUID();
  const cases: Array<[string[], RegExp]> = [
    [['--role', 'host'], /--org must be/],
    [['--org', 'acme', '--role', 'host'], /--org must be/],
    [['--org', org, '--role', 'admin'], /--role must be/],
    [['--org', org, '--role', 'host', '--session', 's1'], /--session must be/],
    [['--org', org, '--role', 'host', '--ttl', '-5'], /--ttl/],
    [['--org', org, '--role', 'host', '--ttl', '1.5'], /--ttl/],
    [['--org', org, '--role', 'host', '--ttl', '86401'], /--ttl must be whole seconds, 1-86400 \(PC_JWT_MAX_LIFETIME_S/],
    [['--org', org, '--role', 'host', '--name', '  '], /--name/],
    [['--org', org, '--role', 'host', '--bogus'], /Unknown option/],
  ];
  for (const [args, message] of cases) {
    await t.rejects(tokenCommand(args, env), { name: 'UsageError', message }, args.join(' '));
  }
});

tap.test('polyglot token issues tokens within the lifetime signaling accepts', async (t) => {
  const org = randomUUID();
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  t.equal(await tokenCommand(['--org', org, '--role', 'host', '--ttl', '86400'], { PC_JWT_SECRET: TEST_SECRET }, out, new PassThrough()), 0);
  const principal = await new TokenVerifier({ secret: TEST_SECRET }).verify(Buffer.concat(chunks).toString('utf8').trim());
  t.equal(principal.org, org, 'a 24 h token, the default maximum, is accepted');
  await t.rejects(tokenCommand(['--org', org, '--role', 'host', '--ttl', '601'], { PC_JWT_SECRET: TEST_SECRET, PC_JWT_MAX_LIFETIME_S: '600' }), {
    name: 'UsageError',
    message: /1-600/,
  });
  const shortDefault = new PassThrough();
  const short: Buffer[] = [];
  shortDefault.on('data', (c: Buffer) => short.push(c));
  await tokenCommand(['--org', org, '--role', 'host'], { PC_JWT_SECRET: TEST_SECRET, PC_JWT_MAX_LIFETIME_S: '600' }, shortDefault, new PassThrough());
  const p = await new TokenVerifier({ secret: TEST_SECRET, maxLifetimeSeconds: 600 }).verify(Buffer.concat(short).toString('utf8').trim());
  t.ok(p.expiresAtMs - Date.now() <= 600_000, 'the default ttl shrinks to the maximum');
});
