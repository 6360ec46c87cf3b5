import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { z } from 'zod';
import { TokenRefusedError, TryAgainLaterError } from './errors.js';
import { DEFAULT_MAX_TOKEN_LIFETIME_S, type Role } from './devToken.js';

export interface TokenVerifierOptions {
  /** HS256 shared secret (development, or a deployment without an identity provider). */
  secret?: string | undefined;
  /** RS256 keys from the identity provider; when set, HS256 tokens are refused. */
  jwksUrl?: string | undefined;
  /** Required `iss` / `aud` when set; both required with a jwksUrl. */
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Allowed clock skew between the token issuer and us. */
  clockToleranceSeconds?: number;
  /** Tokens whose exp - iat exceeds this, or that carry no iat, are refused (`claims`). */
  maxLifetimeSeconds?: number;
}

/** Who a verified token speaks for. */
export interface Principal {
  sub: string;
  /** Organization id (UUID). */
  org: string;
  /** Session id (UUID); absent on organization-wide host tokens (REST only). */
  session: string | undefined;
  role: Role;
  /** Display name; the sub when the token has none. */
  name: string;
  expiresAtMs: number;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  org: z.string().uuid(),
  session: z.string().uuid().optional(),
  role: z.enum(['host', 'speaker', 'viewer']),
  name: z.string().trim().min(1).max(100).optional(),
  exp: z.number().int(),
  iat: z.number().int(),
});

/** When the JWKS endpoint is down, a client should come back shortly rather than give up. */
const JWKS_RETRY_AFTER_MS = 2_000;

/**
 * Verifies bearer tokens: HS256 with a shared secret, or RS256 against a JWKS URL (keys fetched
 * and cached by jose, refetched on an unknown `kid`). Claims are decoded with zod, never cast.
 */
export class TokenVerifier {
  readonly #key: Uint8Array | JWTVerifyGetKey;
  readonly #options: JWTVerifyOptions;
  readonly #maxLifetimeSeconds: number;

  constructor({ secret, jwksUrl, issuer, audience, clockToleranceSeconds = 5, maxLifetimeSeconds = DEFAULT_MAX_TOKEN_LIFETIME_S }: TokenVerifierOptions) {
    this.#maxLifetimeSeconds = maxLifetimeSeconds;
    if (jwksUrl !== undefined) {
      // An identity provider signs for many applications: without iss and aud, any of its tokens would do.
      if (issuer === undefined || audience === undefined) throw new TypeError('TokenVerifier: a jwksUrl needs an issuer and an audience');
      this.#key = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
      this.#options = { algorithms: ['RS256'] };
    } else if (secret !== undefined) {
      this.#key = new TextEncoder().encode(secret);
      this.#options = { algorithms: ['HS256'] };
    } else {
      throw new TypeError('TokenVerifier needs a secret (HS256) or a jwksUrl (RS256)');
    }
    this.#options = {
      ...this.#options,
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub'],
      ...(issuer !== undefined ? { issuer } : {}),
      ...(audience !== undefined ? { audience } : {}),
    };
  }

  /** The token's principal; UnauthenticatedError if it is not valid, UnavailableError if keys cannot be fetched. */
  async verify(token: string): Promise<Principal> {
    let payload: unknown;
    try {
      // jose's overloads differ for a key and a key getter; both are the same call underneath.
      const result = this.#key instanceof Uint8Array ? await jwtVerify(token, this.#key, this.#options) : await jwtVerify(token, this.#key, this.#options);
      payload = result.payload;
    } catch (err) {
      throw mapJoseError(err, !(this.#key instanceof Uint8Array));
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) {
      const what = claims.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new TokenRefusedError(`token claims invalid: ${what}`, 'claims');
    }
    const c = claims.data;
    if (c.exp - c.iat > this.#maxLifetimeSeconds) {
      throw new TokenRefusedError(`token lifetime ${c.exp - c.iat} s exceeds the maximum of ${this.#maxLifetimeSeconds} s`, 'claims');
    }
    return { sub: c.sub, org: c.org, session: c.session, role: c.role, name: c.name ?? c.sub, expiresAtMs: c.exp * 1000 };
  }
}

function mapJoseError(err: unknown, remoteKeys: boolean): Error {
  if (err instanceof joseErrors.JWTExpired) return new TokenRefusedError('token expired', 'expired', err);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRefusedError('token signature invalid', 'bad_signature', err);
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new TokenRefusedError('token signed by an unknown key', 'bad_signature', err);
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new TokenRefusedError('token algorithm not accepted', 'bad_signature', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) return new TokenRefusedError(`token claim invalid: ${err.claim} ${err.reason}`, 'claims', err);
  if (err instanceof joseErrors.JWKSTimeout) return new TryAgainLaterError('identity provider keys timed out', JWKS_RETRY_AFTER_MS, err);
  if (err instanceof joseErrors.JWKSInvalid || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return new TryAgainLaterError('identity provider keys unusable', JWKS_RETRY_AFTER_MS, err);
  }
  if (err instanceof joseErrors.JOSEError || !remoteKeys) return new TokenRefusedError('token malformed', 'malformed', err);
  // A fetch failure of the JWKS endpoint (connection refused, DNS): not the client's fault.
  return new TryAgainLaterError('identity provider keys unreachable', JWKS_RETRY_AFTER_MS, err);
}
