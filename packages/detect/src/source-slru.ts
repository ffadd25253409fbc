/**
 * A segmented LRU of source addresses in typed arrays: the same probation/protected policy as
 * {@link BoundedKeys} (keyed.ts; Karedla, Love and Wherry, IEEE Computer 27(3), 1994), for state
 * that a caller keeps in columns indexed by slot (the first-sighting gate, gate.ts), so that
 * tracking a new source allocates no object at all: no Map entry, no list node, no key string.
 *
 * - An IPv4 source in canonical text ({@link ipv4Bits}) is keyed by its 32-bit number in an
 *   open-addressing hash table (linear probing, at most half full, one `(key, slot)` pair of
 *   int32 per bucket, so a probe reads one cache line; grown fourfold, up to the buckets the
 *   capacity needs, so that its entries are rehashed about a third of a time each on average);
 *   removal shifts the following entries back
 *   (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so there are no tombstones and no walks over them.
 * - Any other source text (IPv6, a name) is keyed by string in a Map (the fallback: what
 *   BoundedKeys does for every key).
 *
 * Both kinds share one capacity and one recency order. Slots are small integers from 2 up (0 and
 * 1 are the sentinels of the two circular lists); they are handed out in order, grow by doubling
 * (columns reallocated, amortised O(1)) up to `capacity`, and are reused when an entry
 * is evicted. Every operation is O(1): touch, insert (eviction included), promote.
 *
 * Segments: a new source enters probation; {@link promote} moves it to protected; when protected
 * holds more than `protectedShare` of the capacity its least recently used entry is demoted to
 * probation's most recent end; eviction takes probation's least recently used entry, protected's
 * only when probation is empty. So a spray of one-shot sources churns probation only.
 */
import { NOT_IPV4, ipv4Bits } from './v4.js';
import { detach } from './retain.js';

/** Slot of probation's sentinel. */
const PROBATION = 0;
/** Slot of protected's sentinel. */
const PROTECTED = 1;
/** First slot of an entry. */
const FIRST = 2;
/** Slots allocated at first (grown by doubling up to the capacity). */
const INITIAL_SLOTS = 1024;
/** Flag bits of a slot. */
const F_PROTECTED = 1;
const F_STRING = 2;
/** log2 of the table's buckets at first. */
const INITIAL_TABLE_BITS = 12;
/** Fibonacci hashing multiplier (2^32 / golden ratio; Knuth, TAOCP vol. 3, 6.4). */
const GOLDEN = 0x9e3779b1;

/** Called with the new number of slots (indices 0 .. n-1) before a slot beyond the old number is handed out. */
export type GrowSlots = (slots: number) => void;

/**
 * Bounded set of source addresses, each in a slot the caller indexes its own columns with.
 * @param capacity entries held at most (>= 1).
 * @param protectedShare share of `capacity` the protected segment may hold (0..1).
 * @param onGrow called when the slots grow, so the caller grows its columns to match.
 * @throws RangeError when capacity < 1 or protectedShare is outside 0..1.
 */
export class SourceSlru {
  private prev: Int32Array;
  private next: Int32Array;
  private keys: Int32Array;
  private flags: Uint8Array;
  /** Open addressing: bucket i is `(table[2i]` = key, `table[2i+1]` = slot, 0 when empty). */
  private table: Int32Array;
  private mask: number;
  private shift: number;
  /** IPv4 entries in the table, and the count at which it grows. */
  private entries = 0;
  private growAt: number;
  private readonly maxTableBits: number;
  private readonly byString = new Map<string, number>();
  private readonly stringOf = new Map<number, string>();
  /** Next slot never handed out. */
  private top = FIRST;
  private readonly protectedMax: number;
  private lastAddr: string | undefined = undefined;
  private lastKey = NOT_IPV4;
  private probationSize = 0;
  private protectedSize = 0;
  /** Evictions so far, by the segment the evicted entry was in. */
  readonly evicted = { probation: 0, protected: 0 };

  constructor(
    readonly capacity: number,
    protectedShare: number,
    private readonly onGrow: GrowSlots = () => {},
  ) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (!(protectedShare >= 0 && protectedShare <= 1)) throw new RangeError(`protectedShare must be within 0..1, got ${protectedShare}`);
    this.protectedMax = Math.max(0, Math.floor(capacity * protectedShare));
    const n = Math.min(INITIAL_SLOTS, capacity + FIRST);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.keys = new Int32Array(n);
    this.flags = new Uint8Array(n);
    for (const s of [PROBATION, PROTECTED]) {
      this.prev[s] = s;
      this.next[s] = s;
    }
    this.flags[PROTECTED] = F_PROTECTED;
    this.maxTableBits = Math.max(4, Math.ceil(Math.log2((capacity + FIRST) * 2)));
    const bits = Math.min(INITIAL_TABLE_BITS, this.maxTableBits);
    this.table = new Int32Array(2 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.growAt = bits === this.maxTableBits ? Number.POSITIVE_INFINITY : 1 << (bits - 1);
  }

  /** Sources held now. */
  get size(): number {
    return this.probationSize + this.protectedSize;
  }

  /** Slots allocated (the length the caller's columns must have at least). */
  get slots(): number {
    return this.prev.length;
  }

  /** Sources in `segment`. */
  sizeOf(segment: 'probation' | 'protected'): number {
    return segment === 'protected' ? this.protectedSize : this.probationSize;
  }

  /** True when the entry in `slot` is in the protected segment. */
  isProtected(slot: number): boolean {
    return (this.flags[slot] & F_PROTECTED) !== 0;
  }

  /**
   * The slot of `addr`, marked most recently used in its segment, or -1 when it is not held. A miss
   * leaves `addr` parsed for an {@link insert} of it that follows.
   */
  touch(addr: string): number {
    const k = ipv4Bits(addr);
    this.lastAddr = addr;
    this.lastKey = k;
    const slot = k !== NOT_IPV4 ? this.find(k) : (this.byString.get(addr) ?? -1);
    if (slot >= FIRST && this.next[this.flags[slot] & F_PROTECTED] !== slot) {
      this.unlink(slot);
      this.pushFront(this.flags[slot] & F_PROTECTED, slot);
    }
    return slot;
  }

  /**
   * Insert `addr`, which must not be held (its {@link touch} just missed): in probation, most
   * recently used. At capacity, the least recently used entry of probation (else of protected) is
   * evicted first and its slot reused. Returns the new entry's slot; its columns hold whatever the
   * slot held before (the caller overwrites them).
   */
  insert(addr: string): number {
    const k = addr === this.lastAddr ? this.lastKey : ipv4Bits(addr);
    this.lastAddr = undefined;
    const slot = this.size >= this.capacity ? this.evictOne() : this.allocate();
    if (k !== NOT_IPV4) {
      this.flags[slot] = 0;
      this.keys[slot] = k;
      if (this.entries >= this.growAt) this.growTable();
      this.put(k, slot);
    } else {
      // A copy of the text, so that the key does not pin the input line it was cut from (retain.ts).
      const key = detach(addr);
      this.flags[slot] = F_STRING;
      this.byString.set(key, slot);
      this.stringOf.set(slot, key);
    }
    this.pushFront(PROBATION, slot);
    this.probationSize++;
    return slot;
  }

  /**
   * Move the entry in `slot` to protected's most recent end (no-op when it is protected). When
   * protected then holds more than its share, its least recently used entry moves to probation's
   * most recent end.
   */
  promote(slot: number): void {
    if ((this.flags[slot] & F_PROTECTED) !== 0) return;
    this.unlink(slot);
    this.probationSize--;
    this.flags[slot] |= F_PROTECTED;
    this.pushFront(PROTECTED, slot);
    this.protectedSize++;
    if (this.protectedSize > this.protectedMax) {
      const d = this.prev[PROTECTED];
      this.unlink(d);
      this.protectedSize--;
      this.flags[d] &= ~F_PROTECTED;
      this.pushFront(PROBATION, d);
      this.probationSize++;
    }
  }

  /** The source text held in `slot` (a new string for an IPv4 source). */
  addressOf(slot: number): string {
    if ((this.flags[slot] & F_STRING) !== 0) return this.stringOf.get(slot) as string;
    const v = this.keys[slot];
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }

  /** The IPv4 bits of the source in `slot` (an int32, see {@link ipv4Bits}), or NOT_IPV4 for a source keyed by its text. */
  bitsOf(slot: number): number {
    return (this.flags[slot] & F_STRING) !== 0 ? NOT_IPV4 : this.keys[slot];
  }

  /** Slots of `segment` from least to most recently used (do not change the set while iterating). */
  *fromOldest(segment: 'probation' | 'protected'): IterableIterator<number> {
    const s = segment === 'protected' ? PROTECTED : PROBATION;
    for (let n = this.prev[s]; n !== s; n = this.prev[n]) yield n;
  }

  private evictOne(): number {
    let slot = this.prev[PROBATION];
    if (slot === PROBATION) {
      slot = this.prev[PROTECTED];
      this.protectedSize--;
      this.evicted.protected++;
    } else {
      this.probationSize--;
      this.evicted.probation++;
    }
    this.unlink(slot);
    if ((this.flags[slot] & F_STRING) !== 0) {
      this.byString.delete(this.stringOf.get(slot) as string);
      this.stringOf.delete(slot);
    } else {
      this.remove(this.keys[slot]);
    }
    return slot;
  }

  private allocate(): number {
    if (this.top === this.prev.length) this.grow(Math.min(this.prev.length * 2, this.capacity + FIRST));
    return this.top++;
  }

  private grow(n: number): void {
    this.prev = resized(this.prev, n);
    this.next = resized(this.next, n);
    this.keys = resized(this.keys, n);
    this.flags = resized(this.flags, n);
    this.onGrow(n);
  }

  /** Rehash into four times the buckets (at most what the capacity needs): the table is then at most an eighth full. */
  private growTable(): void {
    const old = this.table;
    const bits = Math.min(32 - this.shift + 2, this.maxTableBits);
    this.table = new Int32Array(2 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.growAt = bits === this.maxTableBits ? Number.POSITIVE_INFINITY : 1 << (bits - 1);
    this.entries = 0;
    for (let b = 0; b < old.length; b += 2) if (old[b + 1] !== 0) this.put(old[b], old[b + 1]);
  }

  private find(k: number): number {
    const t = this.table;
    let i = Math.imul(k, GOLDEN) >>> this.shift;
    for (;;) {
      const s = t[2 * i + 1];
      if (s === 0) return -1;
      if (t[2 * i] === k) return s;
      i = (i + 1) & this.mask;
    }
  }

  /** Add key `k` (absent) for `slot`; the caller made room ({@link growTable}). */
  private put(k: number, slot: number): void {
    this.entries++;
    const t = this.table;
    let i = Math.imul(k, GOLDEN) >>> this.shift;
    while (t[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    t[2 * i] = k;
    t[2 * i + 1] = slot;
  }

  /** Remove key `k` (present) and shift back the entries after it that its bucket displaced. */
  private remove(k: number): void {
    const t = this.table;
    const mask = this.mask;
    let i = Math.imul(k, GOLDEN) >>> this.shift;
    while (t[2 * i] !== k || t[2 * i + 1] === 0) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (t[2 * j + 1] === 0) break;
      const h = Math.imul(t[2 * j], GOLDEN) >>> this.shift;
      // The entry at j may move to i when its home bucket h is not cyclically within (i, j].
      if (i <= j ? h <= i || h > j : h <= i && h > j) {
        t[2 * i] = t[2 * j];
        t[2 * i + 1] = t[2 * j + 1];
        i = j;
      }
    }
    t[2 * i] = 0;
    t[2 * i + 1] = 0;
    this.entries--;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    this.next[p] = n;
    this.prev[n] = p;
  }

  private pushFront(sentinel: number, slot: number): void {
    const first = this.next[sentinel];
    this.prev[slot] = sentinel;
    this.next[slot] = first;
    this.prev[first] = slot;
    this.next[sentinel] = slot;
  }
}

/** A copy of `a` with length `n` (the new tail zeroed). */
function resized<T extends Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
