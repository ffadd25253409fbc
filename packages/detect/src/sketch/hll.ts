/**
 * HyperLogLog distinct-count sketch (Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis
 * of a near-optimal cardinality estimation algorithm", AofA 2007), with the small-range correction
 * (linear counting below 2.5 m) of that paper. A key whose items reach `maxItemsPerKey` keeps
 * counting its distinct items here, approximately, instead of saturating.
 *
 * `2^p` one-byte registers (p = 12 by default: 4 KiB); relative standard error 1.04 / sqrt(2^p)
 * (1.6 % at p = 12). Items are hashed to 32 bits (MurmurHash3's fmix32 over FNV-1a for strings,
 * over the value for integers): counts stay within the stated error up to about 10^8 distinct
 * items, far above what one key can see in a window (65,536 ports; a /16 of hosts).
 */
export class HyperLogLog {
  private readonly registers: Uint8Array;
  private readonly m: number;
  private readonly alpha: number;

  /**
   * @param p precision: 2^p registers, 4..16 (default 12).
   * @throws RangeError when p is outside 4..16.
   */
  constructor(readonly p = 12) {
    if (!Number.isInteger(p) || p < 4 || p > 16) throw new RangeError(`p must be an integer within 4..16, got ${p}`);
    this.m = 1 << p;
    this.registers = new Uint8Array(this.m);
    this.alpha = this.m >= 128 ? 0.7213 / (1 + 1.079 / this.m) : this.m === 64 ? 0.709 : this.m === 32 ? 0.697 : 0.673;
  }

  /** Relative standard error of the estimate: 1.04 / sqrt(2^p). */
  get standardError(): number {
    return 1.04 / Math.sqrt(this.m);
  }

  /** Add an item (a port number, an address, any string or integer). O(length of a string item). */
  add(item: string | number): void {
    const h = hash32(item);
    const idx = h >>> (32 - this.p);
    const w = (h << this.p) >>> 0;
    // Rank: position of the first 1 bit in the remaining 32 - p bits (1-based), 32 - p + 1 when none.
    const rank = w === 0 ? 32 - this.p + 1 : Math.clz32(w) + 1;
    if (rank > this.registers[idx]) this.registers[idx] = rank;
  }

  /** The estimated number of distinct items added. O(2^p). */
  estimate(): number {
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < this.m; i++) {
      const r = this.registers[i];
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const e = (this.alpha * this.m * this.m) / sum;
    if (e <= 2.5 * this.m && zeros > 0) return Math.round(this.m * Math.log(this.m / zeros));
    return Math.round(e);
  }
}

/** 32-bit hash of an item: FNV-1a over the UTF-16 code units of a string, then MurmurHash3's fmix32; an integer through fmix32 twice. */
export function hash32(item: string | number): number {
  let h: number;
  if (typeof item === 'number') {
    // Integers go through fmix32 twice (one round leaves sequential ports visibly correlated).
    h = fmix32((item | 0) ^ 0x9e3779b9) ^ Math.floor(item / 4294967296);
  } else {
    h = 0x811c9dc5;
    for (let i = 0; i < item.length; i++) {
      h ^= item.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return fmix32(h);
}

/** MurmurHash3's 32-bit finaliser (public domain, Austin Appleby). */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
