import { SignJWT } from 'jose';

/**
 * Development tokens: HS256 with a shared secret, minted by `polyglot token` and by the signaling
 * node for viewer links. Production deployments verify RS256 tokens from the identity provider's
 * JWKS instead (PC_JWKS_URL), and no shared secret exists.
 */

/**
 * Used when PC_ENV=development and PC_JWT_SECRET is unset, and never otherwise: anyone can read it
 * here, so a token signed with it proves nothing.
 */
export const DEV_JWT_SECRET = 'polyglot-connect-development-secret-NOT-FOR-PRODUCTION';

/** Shorter secrets make HS256 guessable offline (RFC 7518 §3.2: at least the hash size). */
export const MIN_JWT_SECRET_LENGTH = 32;

/**
 * The longest lifetime (exp - iat) a token may claim, by default: a leaked token is good for at
 * most a day. PC_JWT_MAX_LIFETIME_S changes it.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 24 * 3600;

export type Role = 'host' | 'speaker' | 'viewer';

export interface DevTokenClaims {
  sub: string;
  /** The organization's id (a UUID). */
  org: string;
  /** The session's id (a UUID); a WebSocket needs it, REST calls of a host do not. */
  session?: string | undefined;
  role: Role;
  name?: string | undefined;
  ttlSeconds: number;
}

/**
 * The HS256 secret to sign and verify with: PC_JWT_SECRET, else DEV_JWT_SECRET in development,
 * else undefined (the caller refuses to run).
 */
export function resolveJwtSecret(opts: { env: 'development' | 'production'; secret: string | undefined }): string | undefined {
  return opts.secret ?? (opts.env === 'development' ? DEV_JWT_SECRET : undefined);
}

export async function signDevToken(secret: string, claims: DevTokenClaims, nowMs = Date.now()): Promise<string> {
  if (secret.length < MIN_JWT_SECRET_LENGTH) throw new TypeError(`the JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
  if (!Number.isInteger(claims.ttlSeconds) || claims.ttlSeconds <= 0) throw new TypeError(`ttlSeconds must be a positive integer, got ${claims.ttlSeconds}`);
  const iat = Math.floor(nowMs / 1000);
  const payload: Record<string, string> = { org: claims.org, role: claims.role };
  if (claims.session !== undefined) payload.session = claims.session;
  if (claims.name !== undefined) payload.name = claims.name;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + claims.ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
