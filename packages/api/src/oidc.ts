/**
 * OIDC bearer tokens: a JWT (RFC 7519) signed by the configured issuer, verified with `jose`
 * against the issuer's JWKS (RFC 7517, fetched from `jwksUri` and cached by jose; an unknown
 * `kid` makes jose refetch once, rate-limited). Checks: signature (asymmetric algorithms only),
 * `iss`, `aud`, `exp`/`nbf` with a clock tolerance. The floe role comes from a configured claim
 * (a string or an array of strings) through a value → role map; the highest matching role wins.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { API_ROLES, isApiRole, type ApiRole } from './identity.js';

/** OIDC settings (the `api.oidc` configuration keys, issuer set). */
export interface OidcOptions {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** Claim holding roles or groups; default `roles`. */
  roleClaim?: string;
  /** Claim value → floe role. */
  roles: Readonly<Record<string, ApiRole>>;
  /** Allowed clock skew on exp/nbf/iat (s); default 30. */
  clockToleranceSec?: number;
}

/** A verified OIDC caller: `sub` and the mapped role (absent when no claim value maps to one). */
export interface OidcIdentity {
  sub: string;
  role?: ApiRole;
}

/** Signature algorithms accepted (asymmetric only: `none` and HMAC are refused). */
export const OIDC_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

/** Verifies one JWT; rejects with a short reason (`expired`, `bad signature`, …) on refusal. */
export type OidcVerifier = (jwt: string) => Promise<OidcIdentity>;

/** A JWT's refusal, with a reason safe to answer (no token content). */
export class OidcRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'OidcRefusal';
  }
}

/** Three base64url segments: the compact JWS form of a JWT (RFC 7515 section 7.1). */
export function looksLikeJwt(text: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text);
}

function reasonOf(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'token expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim ${e.claim} is not valid (${e.reason})`;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches the token (unknown kid)';
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JOSEError) {
    const code = (e as { code?: string }).code ?? 'ERR_JOSE';
    return code === 'ERR_JWKS_TIMEOUT' ? 'the issuer JWKS did not answer in time' : `not a valid token (${code})`;
  }
  return 'the issuer JWKS could not be read';
}

/** The floe role of a payload: the highest role any value of `claim` maps to. */
export function roleFromClaims(payload: JWTPayload, claim: string, map: Readonly<Record<string, ApiRole>>): ApiRole | undefined {
  const raw = payload[claim];
  const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  let best = -1;
  for (const v of values) {
    const r = Object.hasOwn(map, v) ? map[v] : undefined;
    if (isApiRole(r)) best = Math.max(best, API_ROLES.indexOf(r));
  }
  return best < 0 ? undefined : API_ROLES[best];
}

/**
 * The verifier of `opts`. Inert: the JWKS is fetched at the first token.
 * @throws Error (code FLOE_CONFIG_API_OIDC) when jwksUri is not an http(s) URL.
 */
export function createOidcVerifier(opts: OidcOptions): OidcVerifier {
  let url: URL;
  try {
    url = new URL(opts.jwksUri);
  } catch {
    throw Object.assign(new Error(`api.oidc.jwksUri is not a URL: ${opts.jwksUri.slice(0, 200)}`), { code: 'FLOE_CONFIG_API_OIDC' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw Object.assign(new Error('api.oidc.jwksUri must be an http(s) URL'), { code: 'FLOE_CONFIG_API_OIDC' });
  const jwks = createRemoteJWKSet(url, { timeoutDuration: 5000 });
  const claim = opts.roleClaim ?? 'roles';
  return async (jwt) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, jwks, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: [...OIDC_ALGORITHMS],
        clockTolerance: opts.clockToleranceSec ?? 30,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (e) {
      throw new OidcRefusal(reasonOf(e));
    }
    const sub = String(payload.sub);
    const role = roleFromClaims(payload, claim, opts.roles);
    return role === undefined ? { sub } : { sub, role };
  };
}
