/**
 * Small fixed-size counting structures for the window features: a distinct counter that is
 * exact for small sets and a HyperLogLog past them, a bucketed histogram for entropy, and a
 * direct-mapped "seen before" table. None allocates after construction.
 */

/** FNV-1a 32-bit hash of `s` (its UTF-16 code units), continuing from `h` (offset basis by default). */
export function hashString(s: string, h = 0x811c9dc5, end = s.length): number {
  for (let i = 0; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Mixes a 32-bit value into a well-spread 32-bit hash (the murmur3 finaliser). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Items held exactly before a {@link DistinctCounter} switches to its HyperLogLog registers. */
export const EXACT_DISTINCT = 32;
/** HyperLogLog precision of {@link DistinctCounter}: 2^8 = 256 one-byte registers, standard error 1.04/√256 ≈ 6.5 % (Flajolet et al. 2007). */
export const HLL_P = 8;
const HLL_M = 1 << HLL_P;
/** Bias-correction constant α_m for m ≥ 128 (Flajolet et al. 2007, "HyperLogLog", figure 3). */
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_M);

/**
 * Distinct count of 32-bit hashes: exact up to {@link EXACT_DISTINCT} items (a linear scan of a
 * small array), then a HyperLogLog of 256 registers (with linear counting for small estimates).
 * Memory: 128 bytes, plus 256 once past the exact range.
 */
export class DistinctCounter {
  private readonly exact = new Uint32Array(EXACT_DISTINCT);
  private n = 0;
  private regs: Uint8Array | undefined;

  /** Adds one hashed item. */
  add(h: number): void {
    if (this.regs === undefined) {
      const ex = this.exact;
      for (let i = 0; i < this.n; i++) if (ex[i] === h) return;
      if (this.n < EXACT_DISTINCT) {
        ex[this.n++] = h;
        return;
      }
      this.regs = new Uint8Array(HLL_M);
      for (let i = 0; i < this.n; i++) this.addHll(ex[i]);
    }
    this.addHll(h);
  }

  private addHll(h: number): void {
    const x = mix32(h);
    const idx = x >>> (32 - HLL_P);
    const rest = (x << HLL_P) >>> 0;
    const rank = rest === 0 ? 32 - HLL_P + 1 : Math.clz32(rest) + 1;
    const regs = this.regs as Uint8Array;
    if (rank > regs[idx]) regs[idx] = rank;
  }

  /** The distinct count (exact below {@link EXACT_DISTINCT}, else an estimate). */
  count(): number {
    const regs = this.regs;
    if (regs === undefined) return this.n;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < HLL_M; i++) {
      sum += 2 ** -regs[i];
      if (regs[i] === 0) zeros++;
    }
    const e = (HLL_ALPHA * HLL_M * HLL_M) / sum;
    if (e <= 2.5 * HLL_M && zeros > 0) return Math.max(EXACT_DISTINCT, HLL_M * Math.log(HLL_M / zeros));
    return e;
  }

  /** Forgets every item (keeps the HyperLogLog registers allocated, zeroed). */
  reset(): void {
    this.n = 0;
    if (this.regs) this.regs.fill(0);
    this.regs = undefined;
  }
}

/** Buckets of an {@link EntropyHistogram}: its entropy is at most log2(64) = 6 bits. */
export const ENTROPY_BUCKETS = 64;

/**
 * Shannon entropy (bits) of a stream of hashed items, over {@link ENTROPY_BUCKETS} hash buckets:
 * exact while the items fall into distinct buckets, a lower bound otherwise (collisions merge
 * items). 256 bytes.
 */
export class EntropyHistogram {
  private readonly counts = new Uint32Array(ENTROPY_BUCKETS);
  private total = 0;

  add(h: number): void {
    this.counts[mix32(h) & (ENTROPY_BUCKETS - 1)]++;
    this.total++;
  }

  /** Entropy in bits (0 for no item or a single repeated item). */
  entropy(): number {
    const n = this.total;
    if (n === 0) return 0;
    let s = 0;
    for (let i = 0; i < ENTROPY_BUCKETS; i++) {
      const c = this.counts[i];
      if (c > 0) s += c * Math.log2(c);
    }
    return Math.max(0, Math.log2(n) - s / n);
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }
}

/**
 * A direct-mapped table of 32-bit fingerprints answering "was this (entity, destination) seen
 * before?" in constant time and memory (4 bytes a slot): a slot holds the last fingerprint hashed
 * to it, so an old pair may be forgotten (reported new again) when another pair takes its slot,
 * and a pair is wrongly reported seen only when two fingerprints collide (2^-32 per lookup).
 */
export class SeenTable {
  private readonly slots: Uint32Array;
  private readonly mask: number;

  /** @param slotsLog2 log2 of the slot count (20 = 1 Mi slots, 4 MiB). */
  constructor(slotsLog2: number) {
    this.slots = new Uint32Array(1 << slotsLog2);
    this.mask = (1 << slotsLog2) - 1;
  }

  /** True when the pair hashed to `h` was seen before; records it either way. */
  checkAndAdd(h: number): boolean {
    const fp = (mix32(h) | 1) >>> 0; // never 0, the empty slot
    const i = h & this.mask;
    if (this.slots[i] === fp) return true;
    this.slots[i] = fp;
    return false;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.slots.byteLength;
  }
}
