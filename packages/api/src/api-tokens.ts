/**
 * API tokens: the text given to a person once (`floe_<id>_<secret>`), the SHA-256 hash that is
 * all the store keeps, and the expiry syntax (`30d`). Creating, listing and revoking go through
 * the store (`floe token …` in services/cli, `/v1/tokens` in routes/tokens.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenRecord, Store } from '@floe/store';
import type { ApiRole } from './identity.js';

/** Token text: `floe_`, an id of 12 lowercase hex digits, `_`, 43 base64url characters (32 random bytes). */
export const API_TOKEN_RE = /^floe_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** Longest token expiry accepted: 10 years in ms. */
export const MAX_TOKEN_TTL_MS = 3650 * 86_400_000;

/** Hex SHA-256 of a token's text: what the store keeps. */
export function hashApiToken(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A new token: its text (shown once) and the record to store. */
export interface NewApiToken {
  /** `floe_<id>_<secret>`; never stored, never logged. */
  text: string;
  record: ApiTokenRecord;
}

/**
 * Makes a token (32 random bytes from node:crypto) for `role`.
 * @param opts.ttlMs lifetime in ms from `now` (absent: no expiry).
 */
export function makeApiToken(opts: { role: ApiRole; name?: string; createdBy: string; ttlMs?: number; now: number }): NewApiToken {
  const id = randomBytes(6).toString('hex');
  const text = `floe_${id}_${randomBytes(32).toString('base64url')}`;
  const record: ApiTokenRecord = {
    id,
    name: opts.name ?? id,
    role: opts.role,
    hash: hashApiToken(text),
    createdAt: opts.now,
    createdBy: opts.createdBy,
  };
  if (opts.ttlMs !== undefined) record.expiresAt = opts.now + opts.ttlMs;
  return { text, record };
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * A token lifetime: `<n>m|h|d|w` (`90m`, `12h`, `30d`, `4w`), 1 minute .. 10 years.
 * @returns ms, or undefined when unusable.
 */
export function parseTokenTtl(text: string): number | undefined {
  const m = /^([0-9]{1,6})(m|h|d|w)$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms >= 60_000 && ms <= MAX_TOKEN_TTL_MS ? ms : undefined;
}

/** Why a presented token is refused. */
export type TokenRefusal = 'unknown' | 'revoked' | 'expired';

/**
 * Looks a presented token up: its id selects the row, its hash is compared in constant time.
 * @returns the record, or why it is refused.
 */
export async function verifyApiToken(store: Pick<Store, 'getApiToken'>, text: string, now: number): Promise<ApiTokenRecord | TokenRefusal> {
  const m = API_TOKEN_RE.exec(text);
  if (!m) return 'unknown';
  const rec = await store.getApiToken(m[1]);
  if (!rec || !timingSafeEqual(Buffer.from(rec.hash, 'hex'), Buffer.from(hashApiToken(text), 'hex'))) return 'unknown';
  if (rec.revokedAt !== undefined) return 'revoked';
  if (rec.expiresAt !== undefined && rec.expiresAt <= now) return 'expired';
  return rec;
}
