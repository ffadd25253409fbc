/**
 * Bearer-token check of the API's write routes (RFC 6750 section 2.1, the Authorization request
 * header; section 3 for the WWW-Authenticate challenge).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

/** Realm named in the WWW-Authenticate challenge. */
export const AUTH_REALM = 'floe';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * Whether `presented` equals `expected`, in time independent of where they differ and of the
 * presented length (both are hashed to 32 bytes first, then compared with timingSafeEqual).
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Checks an `Authorization` header value against the configured token.
 * The scheme `Bearer` is case-insensitive (RFC 7235 section 2.1); one or more spaces follow it.
 * @throws ApiError FLOE_API_UNAUTHORIZED (401) with a `WWW-Authenticate: Bearer realm="floe"`
 *   header when the header is absent or not Bearer, and with `error="invalid_token"` added when
 *   the token is wrong.
 */
export function requireBearer(authorization: string | undefined, expected: string): void {
  const m = authorization === undefined ? null : /^Bearer +(\S+) *$/i.exec(authorization);
  if (!m) {
    throw new ApiError('FLOE_API_UNAUTHORIZED', 'this route requires an Authorization: Bearer <token> header', {
      headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}"` },
    });
  }
  if (!tokenMatches(m[1], expected)) {
    throw new ApiError('FLOE_API_UNAUTHORIZED', 'the bearer token is not valid', {
      headers: { 'www-authenticate': `Bearer realm="${AUTH_REALM}", error="invalid_token"` },
    });
  }
}
