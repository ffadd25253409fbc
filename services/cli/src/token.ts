/**
 * `floe token create|list|revoke`: API tokens in the configured store (only each token's SHA-256
 * hash is stored; the secret is printed once, by create). The store is opened directly, so with
 * the embedded DuckDB store run these while `floe run` is stopped (DuckDB locks its file to one
 * process) or use the API (`POST/GET/DELETE /v1/tokens`, admin).
 */
import { userInfo } from 'node:os';
import { escapeText } from '@floe/flow';
import { isApiRole, makeApiToken, parseTokenTtl, type ApiRole } from '@floe/api';
import type { ApiTokenRecord, Store } from '@floe/store';
import { UsageError } from './analyze.js';

/** Options of `floe token create`. */
export interface TokenCreateOptions {
  role: string;
  name?: string;
  /** `<n>m|h|d|w`. */
  expires?: string;
}

function who(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return `cli:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * Creates a token and prints, on `out`, its secret alone on the first line (for scripts:
 * `floe token create --role viewer | head -1`), then its id, role and expiry.
 * @throws UsageError for an unknown role, a bad --expires or --name.
 */
export async function tokenCreate(store: Store, o: TokenCreateOptions, out: (l: string) => void, now = Date.now()): Promise<ApiTokenRecord> {
  if (!isApiRole(o.role)) throw new UsageError(`token create: --role must be viewer, analyst or admin, not ${escapeText(o.role.slice(0, 40))}`);
  let ttlMs: number | undefined;
  if (o.expires !== undefined) {
    ttlMs = parseTokenTtl(o.expires);
    if (ttlMs === undefined) throw new UsageError('token create: --expires must be <n>m|h|d|w (90m, 12h, 30d, 4w), 1 minute .. 10 years');
  }
  if (o.name !== undefined && (o.name.length < 1 || o.name.length > 128 || /[\p{Cc}\p{Cf}]/u.test(o.name))) {
    throw new UsageError('token create: --name must be 1..128 printable characters');
  }
  const t = makeApiToken({ role: o.role as ApiRole, name: o.name, createdBy: who(), ttlMs, now });
  await store.insertApiToken(t.record);
  out(t.text);
  out(
    `id ${t.record.id}  role ${t.record.role}  name ${escapeText(t.record.name)}  expires ${t.record.expiresAt === undefined ? 'never' : new Date(t.record.expiresAt).toISOString()}`,
  );
  out('the secret above is shown once; floe keeps only its SHA-256 hash');
  return t.record;
}

/** Prints every token: id, role, state (active, expired, revoked), name, created, expires. */
export async function tokenList(store: Store, out: (l: string) => void, now = Date.now()): Promise<void> {
  const list = await store.listApiTokens();
  out(`${'id'.padEnd(14)} ${'role'.padEnd(8)} ${'state'.padEnd(8)} ${'created'.padEnd(24)} ${'expires'.padEnd(24)} name`);
  for (const t of list) {
    const state = t.revokedAt !== undefined ? 'revoked' : t.expiresAt !== undefined && t.expiresAt <= now ? 'expired' : 'active';
    const exp = t.expiresAt === undefined ? 'never' : new Date(t.expiresAt).toISOString();
    out(`${t.id.padEnd(14)} ${t.role.padEnd(8)} ${state.padEnd(8)} ${new Date(t.createdAt).toISOString().padEnd(24)} ${exp.padEnd(24)} ${escapeText(t.name)}`);
  }
}

/**
 * Revokes a token by id.
 * @throws UsageError when there is no active token with that id.
 */
export async function tokenRevoke(store: Store, id: string, out: (l: string) => void, now = Date.now()): Promise<void> {
  if (!/^[a-z0-9]{8,32}$/.test(id)) throw new UsageError(`token revoke: ${escapeText(id.slice(0, 40))} is not a token id (floe token list shows them)`);
  if (!(await store.revokeApiToken(id, now))) throw new UsageError(`token revoke: no active token ${id}`);
  out(`revoked ${id}`);
}
