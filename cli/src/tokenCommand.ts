import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, MIN_JWT_SECRET_LENGTH, resolveJwtSecret, signDevToken, type Role } from '../../signaling/src/devToken.js';
import { UsageError } from './UsageError.js';

const USAGE = `usage: polyglot token --org ORG [--session SESSION] --role viewer|speaker|host [--name NAME] [--sub SUB] [--ttl SECONDS]
  Prints an HS256 token signed with PC_JWT_SECRET (with PC_ENV=development and no PC_JWT_SECRET:
  the published development secret, which only a development signaling node accepts).
  ORG and SESSION are UUIDs. A WebSocket needs --session; a host token without one is good for
  the REST API of the whole organization (POST /api/sessions). --ttl defaults to 3600, and is at
  most PC_JWT_MAX_LIFETIME_S (default 86400), the longest lifetime signaling nodes accept.`;

const UUID = z.string().uuid();

const envSchema = z.object({
  PC_ENV: z.enum(['development', 'production']).default('production'),
  PC_JWT_SECRET: z.string().min(MIN_JWT_SECRET_LENGTH, `must be at least ${MIN_JWT_SECRET_LENGTH} characters`).optional(),
  PC_JWKS_URL: z.string().optional(),
  PC_JWT_MAX_LIFETIME_S: z.coerce.number().int().min(60).max(30 * 24 * 3600).default(DEFAULT_MAX_TOKEN_LIFETIME_S),
});

/**
 * `polyglot token`: a development token for the web pages and tests. Takes the environment as an
 * argument (the CLI's main passes process.env) and writes the token, and nothing else, to `out`.
 */
export async function tokenCommand(args: string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  let values: { org?: string; session?: string; role?: string; name?: string; sub?: string; ttl?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        org: { type: 'string' },
        session: { type: 'string' },
        role: { type: 'string' },
        name: { type: 'string' },
        sub: { type: 'string' },
        ttl: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const { org, session, role, name } = values;
  if (!org || !UUID.safeParse(org).success) throw new UsageError(`--org must be the organization's UUID\n${USAGE}`);
  if (session !== undefined && !UUID.safeParse(session).success) throw new UsageError(`--session must be the session's UUID\n${USAGE}`);
  if (role !== 'viewer' && role !== 'speaker' && role !== 'host') throw new UsageError(`--role must be viewer, speaker or host\n${USAGE}`);
  if (name !== undefined && (name.trim().length === 0 || name.length > 100)) throw new UsageError('--name must be 1-100 characters');

  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  const maxTtl = parsed.data.PC_JWT_MAX_LIFETIME_S;
  const ttlSeconds = values.ttl === undefined ? Math.min(3600, maxTtl) : Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > maxTtl) {
    throw new UsageError(`--ttl must be whole seconds, 1-${maxTtl} (PC_JWT_MAX_LIFETIME_S: signaling refuses longer-lived tokens)`);
  }
  const secret = resolveJwtSecret({ env: parsed.data.PC_ENV, secret: parsed.data.PC_JWT_SECRET });
  if (secret === undefined) {
    throw new UsageError('PC_JWT_SECRET is not set: set it to the signaling nodes\' secret, or set PC_ENV=development to use the published development secret');
  }
  if (parsed.data.PC_JWKS_URL !== undefined) err.write('polyglot token: note: PC_JWKS_URL is set, so signaling nodes verify RS256 tokens and will refuse this HS256 one\n');
  if (parsed.data.PC_JWT_SECRET === undefined) err.write('polyglot token: signed with the development secret (PC_ENV=development)\n');

  const sub = values.sub ?? `dev-${role}`;
  const token = await signDevToken(secret, { sub, org, session, role: role satisfies Role, name: name?.trim(), ttlSeconds });
  out.write(`${token}\n`);
  return 0;
}
