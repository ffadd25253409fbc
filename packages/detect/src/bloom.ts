/**
 * A rotating Bloom filter (two generations): bounded memory for a "seen before" set that never
 * stops accepting keys. Keys go into the current generation; a lookup asks both; when the current
 * generation holds `capacity / 2` keys it becomes the old one and a fresh one starts (the keys of
 * the generation before are forgotten, the way an LRU forgets). A key found only in the old
 * generation is copied into the current one, so keys in use survive rotations.
 *
 * Sizing (Bloom 1970; the usual optimum): each generation has
 * `m = ceil(-n ln p / (ln 2)^2)` bits and `k = round(m / n * ln 2)` hashes for `n = capacity / 2`
 * keys at false-positive rate `p`; a lookup over both generations is a false positive with
 * probability at most `1 - (1 - p)^2`, about `2p` (2 % at the default p = 1 %). A false positive
 * says "seen" for a key never added: for the lateral-movement detector, a new peer missed, never a
 * false alarm. Memory: `2m` bits, about 1.2 MB for a capacity of a million keys at 1 %.
 * Hashing: 32-bit FNV-1a and a second FNV-1a variant combined by double hashing
 * (Kirsch and Mitzenmacher, "Less hashing, same performance", 2006). No allocation per call.
 */

/** Default false-positive rate of one generation. */
export const BLOOM_DEFAULT_FP = 0.01;

let h1 = 0;
let h2 = 0;

/** Two 32-bit hashes of `key` into h1, h2 (h2 odd, so the probe sequence visits distinct bits). */
function hash2(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  h1 = a >>> 0;
  h2 = (b | 1) >>> 0;
}

/** A two-generation Bloom filter over string keys (see module comment). */
export class RotatingBloom {
  /** Bits per generation. */
  readonly bits: number;
  /** Hash functions per key. */
  readonly hashes: number;
  /** Keys a generation takes before it rotates (capacity / 2). */
  readonly perGeneration: number;
  /** Rotations so far (each forgets the keys of the generation before last). */
  rotations = 0;
  private cur: Uint32Array;
  private old: Uint32Array;
  private count = 0;

  /**
   * @param capacity keys remembered at least (the last `capacity / 2` distinct keys always are), >= 2.
   * @param fpRate false-positive rate of one generation, 0 < fpRate < 1 (default 0.01).
   * @throws RangeError for a capacity below 2 or a rate outside (0, 1).
   */
  constructor(capacity: number, fpRate = BLOOM_DEFAULT_FP) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`capacity must be an integer >= 2, got ${capacity}`);
    if (!(fpRate > 0 && fpRate < 1)) throw new RangeError(`fpRate must be within (0, 1), got ${fpRate}`);
    this.perGeneration = Math.floor(capacity / 2);
    const n = this.perGeneration;
    this.bits = Math.max(32, Math.ceil((-n * Math.log(fpRate)) / (Math.LN2 * Math.LN2)));
    this.hashes = Math.max(1, Math.round((this.bits / n) * Math.LN2));
    this.cur = new Uint32Array(Math.ceil(this.bits / 32));
    this.old = new Uint32Array(this.cur.length);
  }

  /** Bytes of the two bit arrays. */
  get bytes(): number {
    return this.cur.byteLength + this.old.byteLength;
  }

  private test(arr: Uint32Array): boolean {
    const m = this.bits;
    for (let i = 0; i < this.hashes; i++) {
      const bit = (h1 + Math.imul(i, h2)) >>> 0;
      const j = bit % m;
      if ((arr[j >>> 5] & (1 << (j & 31))) === 0) return false;
    }
    return true;
  }

  private set(arr: Uint32Array): void {
    const m = this.bits;
    for (let i = 0; i < this.hashes; i++) {
      const j = ((h1 + Math.imul(i, h2)) >>> 0) % m;
      arr[j >>> 5] |= 1 << (j & 31);
    }
  }

  /** True when `key` was probably added before (false positives as above; never a false negative within capacity). */
  has(key: string): boolean {
    hash2(key);
    return this.test(this.cur) || this.test(this.old);
  }

  /** Add `key`; returns whether it was (probably) present already. O(hashes + key length). */
  testAndAdd(key: string): boolean {
    hash2(key);
    if (this.test(this.cur)) return true;
    const inOld = this.test(this.old);
    this.set(this.cur);
    if (++this.count >= this.perGeneration) {
      const t = this.old;
      t.fill(0);
      this.old = this.cur;
      this.cur = t;
      this.count = 0;
      this.rotations++;
    }
    return inOld;
  }
}
