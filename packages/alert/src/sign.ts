/**
 * Webhook signatures, Stripe style: header `Floe-Signature: t=<unix seconds>,v1=<hex>` where
 * `v1 = HMAC-SHA256(secret, t + "." + body)` over the exact body bytes. A receiver recomputes the
 * HMAC, compares in constant time, and rejects a `t` further than its tolerance from its clock,
 * so a captured delivery cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature header's name. */
export const SIGNATURE_HEADER = 'floe-signature';

/** Default tolerance of {@link verifySignature} (s), as Stripe's. */
export const DEFAULT_TOLERANCE_S = 300;

/** `t=<tSec>,v1=<hex HMAC-SHA256(secret, tSec + "." + body)>`. */
export function signBody(secret: string, body: string, tSec: number): string {
  const mac = createHmac('sha256', secret).update(`${tSec}.${body}`).digest('hex');
  return `t=${tSec},v1=${mac}`;
}

/**
 * Checks a signature header against the body: `ok` when a v1 value matches and `t` is within
 * `toleranceS` of `nowSec`; else the reason (`malformed`, `stale`, `mismatch`).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSec: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): { ok: true } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' } {
  if (!header) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) v1.push(v);
  }
  if (t === undefined || v1.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSec - t) > toleranceS) return { ok: false, reason: 'stale' };
  const want = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return v1.some((h) => timingSafeEqual(Buffer.from(h, 'hex'), want)) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
