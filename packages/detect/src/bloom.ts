/**
 * A rotating Bloom filter (two generations): bounded memory for a "seen before" set that never
 * stops accepting keys. Keys go into the current generation; a lookup asks both; when the current
 * generation holds `capacity / 2` keys it becomes the old one and a fresh one starts (the keys of
 * the generation before are forgotten, the way an LRU forgets). A key found only in the old
 * generation is copied into the current one, so keys in use survive rotations.
 *
 * Layout: a blocked Bloom filter (Putze, Sanders and Singler, "Cache-, hash- and space-efficient
 * Bloom filters", 2007): a key's `k` bits all lie in one 512-bit block (one cache line), so a
 * lookup touches one line per generation instead of `k`. Blocking raises the false-positive rate a
 * little at equal size; each generation is therefore given 1.2 times the bits of the classic
 * optimum `m = -n ln p / (ln 2)^2` for `n = capacity / 2` keys at rate `p`, with
 * `k = round(m / n * ln 2)` (capped at 12) hashes. A lookup over both generations is a false
 * positive with probability about `1 - (1 - p)^2 ≈ 2p` (2 % at the default p = 1 %; bloom.test.ts
 * measures it). A false positive says "seen" for a key never added: for the lateral-movement
 * detector, a new peer missed, never a false alarm. Memory: about 1.4 MB for a capacity of a
 * million keys at 1 %. Hashing: 32-bit FNV-1a and a second multiplicative hash of the same pass
 * (no allocation per call); block from the first, bit positions by double hashing
 * (Kirsch and Mitzenmacher, "Less hashing, same performance", 2006) from the second.
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

/** Bits per block (one 64-byte cache line). */
const BLOCK_BITS = 512;
const BLOCK_WORDS = BLOCK_BITS / 32;
/** Extra bits given to each generation for the blocked layout (see module comment). */
const BLOCKED_SIZE_FACTOR = 1.2;

/** A two-generation blocked Bloom filter over string keys (see module comment). */
export class RotatingBloom {
  /** Bits per generation (a multiple of 512). */
  readonly bits: number;
  /** Hash functions (bits set) per key. */
  readonly hashes: number;
  /** Keys a generation takes before it rotates (capacity / 2). */
  readonly perGeneration: number;
  /** Rotations so far (each forgets the keys of the generation before last). */
  rotations = 0;
  private readonly blocks: number;
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
    const optimum = (-n * Math.log(fpRate)) / (Math.LN2 * Math.LN2);
    this.hashes = Math.min(12, Math.max(1, Math.round((optimum / n) * Math.LN2)));
    this.blocks = Math.max(1, Math.ceil((optimum * BLOCKED_SIZE_FACTOR) / BLOCK_BITS));
    this.bits = this.blocks * BLOCK_BITS;
    this.cur = new Uint32Array(this.blocks * BLOCK_WORDS);
    this.old = new Uint32Array(this.cur.length);
  }

  /** Bytes of the two bit arrays. */
  get bytes(): number {
    return this.cur.byteLength + this.old.byteLength;
  }

  /** True when every bit of the last hashed key is set in its block of `arr`. */
  private test(arr: Uint32Array): boolean {
    const base = (h1 % this.blocks) * BLOCK_WORDS;
    const a = h2 & (BLOCK_BITS - 1);
    const b = (h2 >>> 9) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const j = (a + i * b) & (BLOCK_BITS - 1);
      if ((arr[base + (j >>> 5)] & (1 << (j & 31))) === 0) return false;
    }
    return true;
  }

  private set(arr: Uint32Array): void {
    const base = (h1 % this.blocks) * BLOCK_WORDS;
    const a = h2 & (BLOCK_BITS - 1);
    const b = (h2 >>> 9) | 1;
    for (let i = 0; i < this.hashes; i++) {
      const j = (a + i * b) & (BLOCK_BITS - 1);
      arr[base + (j >>> 5)] |= 1 << (j & 31);
    }
  }

  /** True when `key` was probably added before (false positives as above; never a false negative within capacity). */
  has(key: string): boolean {
    hash2(key);
    return this.test(this.cur) || this.test(this.old);
  }

  /** Add `key`; returns whether it was (probably) present already. O(hashes + key length), one cache line per generation. */
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
