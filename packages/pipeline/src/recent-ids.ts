/**
 * The last `limit` distinct ids seen, oldest forgotten first, at O(1) per id: a Set for lookup
 * beside a ring of the ids in arrival order. (Forgetting with `set.values().next()` would walk
 * the deleted entries V8 keeps at the head of a Set until its next rehash: a cost per id that
 * grows with the ids forgotten.)
 */
export class RecentIds {
  private readonly seen = new Set<string>();
  private readonly ring: Array<string | undefined>;
  private next = 0;

  /** @param limit ids remembered, >= 1. @throws RangeError for a limit below 1 or not an integer. */
  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`RecentIds limit must be an integer >= 1, got ${limit}`);
    this.ring = new Array<string | undefined>(limit);
  }

  /** True when `id` is new (it is remembered now, the oldest forgotten past the limit); false for a repeat. */
  remember(id: string): boolean {
    if (this.seen.has(id)) return false;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.seen.delete(oldest);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.limit;
    this.seen.add(id);
    return true;
  }

  /** Ids remembered now (<= limit). */
  get size(): number {
    return this.seen.size;
  }
}
