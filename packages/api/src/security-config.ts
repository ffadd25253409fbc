/**
 * The API's security settings from the configuration (`api.*`), resolved once at start: the
 * SecurityOptions of buildApp (shared token and its role, anonymous role, OIDC verifier, rate
 * limits, /metrics auth) and the TLS certificate and key read from their files.
 */
import { readFileSync } from 'node:fs';
import type { FloeConfig } from '@floe/config';
import { escapeText, readFailure } from '@floe/flow';
import { createOidcVerifier } from './oidc.js';
import type { SecurityOptions } from './security.js';

/** What resolveApiSecurity returns: buildApp's `security` and `tls`. */
export interface ResolvedApiSecurity {
  security: SecurityOptions;
  tls?: { cert: Buffer; key: Buffer };
}

const bad = (code: string, why: string) => Object.assign(new Error(why), { code });

/**
 * Resolves `api` (a validated configuration section) and the shared token resolveApiToken
 * returned. Anonymous callers get `api.anonymousRole`; absent, admin when there is neither a
 * shared token nor OIDC (the open loopback API), none otherwise.
 * @throws Error FLOE_CONFIG_API_TLS (only one of tls.cert / tls.key, an unreadable file) or
 *   FLOE_CONFIG_API_OIDC (issuer without audience or jwksUri, a jwksUri that is not http(s));
 *   the role mains and `floe run` exit 2 on them.
 */
export function resolveApiSecurity(api: FloeConfig['api'], token: string | undefined, readFile: (p: string) => Buffer = (p) => readFileSync(p)): ResolvedApiSecurity {
  let tls: ResolvedApiSecurity['tls'];
  const { cert, key } = api.tls ?? {};
  if ((cert === undefined) !== (key === undefined)) throw bad('FLOE_CONFIG_API_TLS', 'api.tls.cert and api.tls.key go together: set both (HTTPS) or neither (HTTP)');
  if (cert !== undefined && key !== undefined) {
    const read = (name: string, p: string) => {
      try {
        return readFile(p);
      } catch (e) {
        throw bad('FLOE_CONFIG_API_TLS', `api.tls.${name} ${escapeText(p)}: cannot read: ${readFailure(e)}`);
      }
    };
    tls = { cert: read('cert', cert), key: read('key', key) };
  }
  const o = api.oidc;
  let oidc: SecurityOptions['oidc'];
  if (o?.issuer !== undefined) {
    if (o.audience === undefined || o.jwksUri === undefined) throw bad('FLOE_CONFIG_API_OIDC', 'api.oidc.issuer needs api.oidc.audience and api.oidc.jwksUri');
    oidc = createOidcVerifier({ issuer: o.issuer, audience: o.audience, jwksUri: o.jwksUri, roleClaim: o.roleClaim, roles: o.roles ?? {}, clockToleranceSec: o.clockToleranceSec });
  }
  const anonymousRole = api.anonymousRole === undefined ? (token || oidc ? undefined : 'admin') : api.anonymousRole === 'none' ? undefined : api.anonymousRole;
  return {
    security: {
      sharedToken: token,
      sharedTokenRole: api.tokenRole ?? 'admin',
      anonymousRole,
      oidc,
      rateLimit: api.rateLimit,
      metricsRequireAuth: api.metricsRequireAuth ?? false,
    },
    ...(tls ? { tls } : {}),
  };
}
