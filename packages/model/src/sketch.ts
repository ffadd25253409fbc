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
export const EXACT_DISTINCT = 16;
/** 32-bit words a DistinctCounter keeps in its slab: the count, then the exact items. */
export const DISTINCT_WORDS = 1 + EXACT_DISTINCT;
/** HyperLogLog precision of {@link DistinctCounter}: 2^8 = 256 one-byte registers, standard error 1.04/√256 ≈ 6.5 % (Flajolet et al. 2007). */
export const HLL_P = 8;
const HLL_M = 1 << HLL_P;
/** Bias-correction constant α_m for m ≥ 128 (Flajolet et al. 2007, "HyperLogLog", figure 3). */
const HLL_ALPHA = 0.7213 / (1 + 1.079 / HLL_M);

/**
 * Distinct count of 32-bit hashes: exact up to {@link EXACT_DISTINCT} items (a linear scan of
 * words in a shared slab), then a HyperLogLog of 256 one-byte registers (allocated on the first
 * overflow and kept for reuse; linear counting for small estimates). 68 bytes of slab, plus 256
 * once past the exact range.
 */
export class DistinctCounter {
  private regs: Uint8Array | undefined;
  private hll = false;

  /** @param a the slab, @param off the first of the DISTINCT_WORDS words this counter owns. */
  constructor(
    private readonly a: Uint32Array,
    private readonly off: number,
  ) {}

  /** A counter with its own words (tests, one-off use). */
  static standalone(): DistinctCounter {
    return new DistinctCounter(new Uint32Array(DISTINCT_WORDS), 0);
  }

  /** Adds one hashed item. */
  add(h: number): void {
    if (!this.hll) {
      const a = this.a;
      const n = a[this.off];
      const first = this.off + 1;
      for (let i = first; i < first + n; i++) if (a[i] === h) return;
      if (n < EXACT_DISTINCT) {
        a[first + n] = h;
        a[this.off] = n + 1;
        return;
      }
      this.hll = true;
      this.regs ??= new Uint8Array(HLL_M);
      for (let i = first; i < first + n; i++) this.addHll(a[i]);
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

  /** The distinct count (exact up to {@link EXACT_DISTINCT}, else an estimate). */
  count(): number {
    if (!this.hll) return this.a[this.off];
    const regs = this.regs as Uint8Array;
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

  /** Forgets every item (keeps the registers allocated, zeroed). */
  reset(): void {
    this.a[this.off] = 0;
    if (this.hll) (this.regs as Uint8Array).fill(0);
    this.hll = false;
  }
}

/** Buckets of an {@link EntropyHistogram}: its entropy is at most log2(32) = 5 bits. */
export const ENTROPY_BUCKETS = 32;
/** 32-bit words an EntropyHistogram keeps in its slab: the total, then the bucket counts. */
export const ENTROPY_WORDS = 1 + ENTROPY_BUCKETS;

/**
 * Shannon entropy (bits) of a stream of hashed items, over {@link ENTROPY_BUCKETS} hash buckets:
 * exact while the items fall into distinct buckets, a lower bound otherwise (collisions merge
 * items). 132 bytes of slab.
 */
export class EntropyHistogram {
  constructor(
    private readonly a: Uint32Array,
    private readonly off: number,
  ) {}

  /** A histogram with its own words (tests, one-off use). */
  static standalone(): EntropyHistogram {
    return new EntropyHistogram(new Uint32Array(ENTROPY_WORDS), 0);
  }

  add(h: number): void {
    this.a[this.off + 1 + (mix32(h) & (ENTROPY_BUCKETS - 1))]++;
    this.a[this.off]++;
  }

  /** Entropy in bits (0 for no item or a single repeated item). */
  entropy(): number {
    const a = this.a;
    const n = a[this.off];
    if (n === 0) return 0;
    let s = 0;
    for (let i = this.off + 1; i <= this.off + ENTROPY_BUCKETS; i++) {
      const c = a[i];
      if (c > 0) s += c * Math.log2(c);
    }
    return Math.max(0, Math.log2(n) - s / n);
  }

  reset(): void {
    this.a.fill(0, this.off, this.off + ENTROPY_WORDS);
  }
}

/**
 * Fixed-size slots of 32-bit words carved from large chunks, so that an entity's counters cost no
 * allocation of their own: `alloc` takes a freed slot or the next unused one (a new chunk of
 * `chunkSlots` slots when needed), `release` gives one back.
 */
export class SlabPool {
  private readonly chunks: Uint32Array[] = [];
  private readonly free: Array<[Uint32Array, number]> = [];
  private used = 0;

  constructor(
    readonly words: number,
    readonly chunkSlots = 1024,
  ) {}

  /** A zeroed slot: its chunk and first word. */
  alloc(): [Uint32Array, number] {
    const f = this.free.pop();
    if (f) {
      f[0].fill(0, f[1], f[1] + this.words);
      return f;
    }
    const c = Math.floor(this.used / this.chunkSlots);
    if (c === this.chunks.length) this.chunks.push(new Uint32Array(this.words * this.chunkSlots));
    const off = (this.used % this.chunkSlots) * this.words;
    this.used++;
    return [this.chunks[c], off];
  }

  release(slot: [Uint32Array, number]): void {
    this.free.push(slot);
  }

  /** Bytes held by the chunks. */
  get bytes(): number {
    return this.chunks.length * this.words * this.chunkSlots * 4;
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
