/**
 * The API's bearer token at start, and the exposure check (moved here from @floe/runtime's
 * roles.ts; the composition calls them through its RoleKit).
 */
import { escapeText, readBoundedText, readFailure } from '@floe/flow';
import { BlockList, isIP } from 'node:net';
import type { FloeConfig } from '@floe/config';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4'); // RFC 1122 3.2.1.3
LOOPBACK.addAddress('::1', 'ipv6'); // RFC 4291 2.5.3
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6'); // IPv4-mapped loopback (RFC 4291 2.5.5.2)

/**
 * Whether a listen host reaches only this machine: `localhost`, 127.0.0.0/8, ::1 or
 * ::ffff:127.0.0.0/104. Any other name or address (0.0.0.0, ::, a host name) counts as exposed.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (h === 'localhost') return true;
  const v = isIP(h);
  return v !== 0 && LOOPBACK.check(h, v === 4 ? 'ipv4' : 'ipv6');
}

/** Token syntax floe accepts (also the `api.token` schema pattern): 16..4096 printable ASCII characters, no spaces. */
export const TOKEN_RE = /^[\x21-\x7e]{16,4096}$/;

/** Most bytes read from `api.tokenFile`: a 4096-character token plus surrounding whitespace; a longer file is refused unread. */
export const TOKEN_FILE_MAX_BYTES = 8192;

/** The `api` keys resolveApiToken reads. */
export type ApiTokenConfig = Pick<FloeConfig['api'], 'host' | 'token' | 'tokenFile' | 'allowUnauthenticated'> & Partial<Pick<FloeConfig['api'], 'anonymousRole' | 'oidc'>>;

/**
 * The API's bearer token from `api.token` or `api.tokenFile` (read now, whitespace trimmed),
 * and the exposure check: a non-loopback `api.host` (see isLoopbackHost) without a token is
 * refused unless `api.allowUnauthenticated` is true.
 * @returns the token, or undefined for an open API.
 * @throws Error with code FLOE_CONFIG_API_TOKEN (both keys set, unreadable file, bad token) or
 *   FLOE_CONFIG_API_UNAUTHENTICATED (exposed without a token); runService and `floe run` exit 2 on them.
 */
export function resolveApiToken(api: ApiTokenConfig, readFile: (path: string) => string = (p) => readBoundedText(p, TOKEN_FILE_MAX_BYTES)): string | undefined {
  const bad = (code: string, why: string) => Object.assign(new Error(why), { code });
  if (api.token !== undefined && api.tokenFile !== undefined) throw bad('FLOE_CONFIG_API_TOKEN', 'api.token and api.tokenFile are both set; keep one');
  let token = api.token;
  if (api.tokenFile !== undefined) {
    try {
      token = readFile(api.tokenFile).trim();
    } catch (e) {
      throw bad('FLOE_CONFIG_API_TOKEN', `api.tokenFile ${escapeText(api.tokenFile)}: cannot read: ${readFailure(e)}`);
    }
    if (!TOKEN_RE.test(token))
      throw bad('FLOE_CONFIG_API_TOKEN', `api.tokenFile ${escapeText(api.tokenFile)}: the token must be 16..4096 printable ASCII characters without spaces`);
  }
  // exposed without a shared token: fine when OIDC or stored tokens are the only way in (anonymousRole none)
  const closed = api.oidc?.issuer !== undefined || api.anonymousRole === 'none';
  if (token === undefined && !isLoopbackHost(api.host) && !api.allowUnauthenticated && !closed) {
    throw bad(
      'FLOE_CONFIG_API_UNAUTHENTICATED',
      `api.host ${api.host} is not a loopback address and no api.token / api.tokenFile (FLOE_API_TOKEN, FLOE_API_TOKEN_FILE) is set: ` +
        'anyone reaching the port could block and unblock addresses. Set a token, api.oidc or api.anonymousRole: none (per-person tokens: floe token create), listen on 127.0.0.1, or set api.allowUnauthenticated: true',
    );
  }
  return token;
}
