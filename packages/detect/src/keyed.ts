/**
 * Bounded keyed state for detectors: a segmented LRU (SLRU) with O(1) get, touch, insert, promote,
 * delete and eviction — never amortised over deleted entries.
 *
 * Why not a plain Map in insertion order: evicting with `map.keys().next()` after many deletes
 * walks the holes V8 leaves at the head of an OrderedHashMap until the next rehash, so eviction
 * under churn (a million one-shot sources) costs O(capacity) per call. Here every entry is a node
 * in an intrusive doubly linked list; the Map only finds nodes.
 *
 * Two segments (SLRU, Karedla, Love and Wherry, IEEE Computer 27(3), 1994):
 * - `probation`: every new key starts here;
 * - `protected`: keys a detector promotes because they are part-way to a threshold (for example a
 *   source with two or more distinct ports). A protected key is evicted only when probation is
 *   empty; when protected holds more than its share of the capacity, its least recently used key
 *   is demoted to probation's most recent end (not dropped).
 * So spraying spoofed one-shot sources churns probation only and cannot push out a real scan in
 * progress. Eviction takes probation's least recently used key first.
 */
export type Segment = 'probation' | 'protected';

interface Node<V> {
  key: string;
  value: V;
  seg: Segment;
  prev: Node<V>;
  next: Node<V>;
}

/** A circular list with a sentinel; `sentinel.next` is the most recent, `sentinel.prev` the least. */
class List<V> {
  readonly sentinel: Node<V>;
  size = 0;
  constructor() {
    const s = { key: '', seg: 'probation' } as Node<V>;
    s.prev = s;
    s.next = s;
    this.sentinel = s;
  }
  pushFront(n: Node<V>): void {
    const s = this.sentinel;
    n.prev = s;
    n.next = s.next;
    s.next.prev = n;
    s.next = n;
    this.size++;
  }
  remove(n: Node<V>): void {
    n.prev.next = n.next;
    n.next.prev = n.prev;
    this.size--;
  }
  last(): Node<V> | undefined {
    const n = this.sentinel.prev;
    return n === this.sentinel ? undefined : n;
  }
}

/** An entry pushed out by an insert: the caller closes its state (emits a final finding, counts it). */
export interface Evicted<V> {
  key: string;
  value: V;
  segment: Segment;
}

/**
 * Bounded map from string keys to detector state `V`, at most `capacity` entries.
 * @param capacity maximum entries (>= 1).
 * @param protectedShare share of `capacity` the protected segment may hold before it demotes (0..1, default 0.8).
 * @throws RangeError when capacity < 1 or protectedShare is outside 0..1.
 */
export class BoundedKeys<V> {
  private readonly index = new Map<string, Node<V>>();
  private readonly probation = new List<V>();
  private readonly prot = new List<V>();
  private readonly protectedMax: number;
  /** Evictions so far, by the segment the evicted key was in. */
  readonly evicted = { probation: 0, protected: 0 };

  constructor(
    readonly capacity: number,
    protectedShare = 0.8,
  ) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError(`capacity must be an integer >= 1, got ${capacity}`);
    if (!(protectedShare >= 0 && protectedShare <= 1)) throw new RangeError(`protectedShare must be within 0..1, got ${protectedShare}`);
    this.protectedMax = Math.max(0, Math.floor(capacity * protectedShare));
  }

  get size(): number {
    return this.index.size;
  }

  /** Number of keys in `segment`. */
  sizeOf(segment: Segment): number {
    return segment === 'protected' ? this.prot.size : this.probation.size;
  }

  /** The state of `key`, without changing its recency. */
  get(key: string): V | undefined {
    return this.index.get(key)?.value;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** The state of `key`, marked most recently used in its segment. */
  touch(key: string): V | undefined {
    const n = this.index.get(key);
    if (n === undefined) return undefined;
    const list = this.listOf(n.seg);
    if (list.sentinel.next !== n) {
      list.remove(n);
      list.pushFront(n);
    }
    return n.value;
  }

  /**
   * Insert or replace `key` (most recently used, in probation when new; a replaced key keeps its
   * segment). Returns the entry evicted to make room, if any (probation's least recent first).
   */
  set(key: string, value: V): Evicted<V> | undefined {
    const n = this.index.get(key);
    if (n !== undefined) {
      n.value = value;
      this.touch(key);
      return undefined;
    }
    return this.add(key, value);
  }

  /**
   * Insert `key`, which the caller knows is absent (its `touch` or `get` just missed, nothing
   * inserted since): `set` without the lookup of an existing entry. Returns the evicted entry, if
   * any. Adding a present key would leave its old node in a list: the caller must not.
   */
  add(key: string, value: V): Evicted<V> | undefined {
    let out: Evicted<V> | undefined;
    if (this.index.size >= this.capacity) out = this.evictOne();
    const node: Node<V> = { key, value, seg: 'probation', prev: this.probation.sentinel, next: this.probation.sentinel };
    this.probation.pushFront(node);
    this.index.set(key, node);
    return out;
  }

  /**
   * Move `key` to the protected segment (most recent end). When protected then exceeds its share,
   * its least recently used key is demoted to probation. No-op for unknown or already protected keys.
   */
  promote(key: string): void {
    const n = this.index.get(key);
    if (n === undefined || n.seg === 'protected') return;
    this.probation.remove(n);
    n.seg = 'protected';
    this.prot.pushFront(n);
    if (this.prot.size > this.protectedMax) {
      const d = this.prot.last() as Node<V>;
      this.prot.remove(d);
      d.seg = 'probation';
      this.probation.pushFront(d);
    }
  }

  /** Remove `key`; returns whether it was present. */
  delete(key: string): boolean {
    const n = this.index.get(key);
    if (n === undefined) return false;
    this.listOf(n.seg).remove(n);
    this.index.delete(key);
    return true;
  }

  /** The least recently used entry of `segment`, or undefined when it is empty. */
  oldest(segment: Segment): Evicted<V> | undefined {
    const n = this.listOf(segment).last();
    return n === undefined ? undefined : { key: n.key, value: n.value, segment };
  }

  /** Entries of `segment` from least to most recently used (do not insert or delete while iterating). */
  *fromOldest(segment: Segment): IterableIterator<[string, V]> {
    const s = this.listOf(segment).sentinel;
    for (let n = s.prev; n !== s; n = n.prev) yield [n.key, n.value];
  }

  /** Every entry, in no particular order. */
  *entries(): IterableIterator<[string, V]> {
    for (const [k, n] of this.index) yield [k, n.value];
  }

  clear(): void {
    this.index.clear();
    for (const l of [this.probation, this.prot]) {
      l.sentinel.next = l.sentinel;
      l.sentinel.prev = l.sentinel;
      l.size = 0;
    }
  }

  private evictOne(): Evicted<V> | undefined {
    const n = this.probation.last() ?? this.prot.last();
    if (n === undefined) return undefined;
    this.listOf(n.seg).remove(n);
    this.index.delete(n.key);
    this.evicted[n.seg]++;
    return { key: n.key, value: n.value, segment: n.seg };
  }

  private listOf(seg: Segment): List<V> {
    return seg === 'protected' ? this.prot : this.probation;
  }
}
