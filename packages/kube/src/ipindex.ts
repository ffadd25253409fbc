/**
 * An address table that knows time: which holder had an address at time t.
 *
 * Each address keeps its tenancies, newest first: `{ holder, from, to? }` (ms since epoch).
 * `lookup(addr, t)` returns the newest tenancy that started at or before t and had not ended more
 * than `graceMs` before t. So a flow stamped a little after its pod was deleted (conntrack's
 * DESTROY comes when the entry times out, collectors lag) still names that pod for the grace
 * period, and an address given to a new pod names the new pod only from the new pod's start on:
 * earlier flows keep the old one. Ended tenancies older than the grace period are dropped by
 * {@link IpIndex.prune}; at most `maxTenancies` are kept per address (the oldest go first), so
 * memory is bounded by the live holders plus those deleted within the grace period.
 */
export interface Tenancy<T> {
  holder: T;
  /** Start (ms since epoch): when the holder got the address. */
  from: number;
  /** End (ms since epoch) when released; absent while held. */
  to?: number;
}

/** Options of an IpIndex. */
export interface IpIndexOptions {
  /** How long (ms) a released address still names its last holder (default 5 min). */
  graceMs?: number;
  /** Tenancies kept per address (default 4). */
  maxTenancies?: number;
}

export class IpIndex<T> {
  private readonly map = new Map<string, Tenancy<T>[]>();
  readonly graceMs: number;
  private readonly maxTenancies: number;

  constructor(opts: IpIndexOptions = {}) {
    this.graceMs = opts.graceMs ?? 300_000;
    this.maxTenancies = Math.max(1, opts.maxTenancies ?? 4);
  }

  /** Addresses known (held or within their grace period). */
  get size(): number {
    return this.map.size;
  }

  /**
   * `holder` holds `addr` from `from` (ms). When `same(existing)` says the current tenancy is
   * this holder already, it is kept (an update of the same pod). Otherwise a still-open tenancy of
   * another holder is ended at `from`, and the new one starts no earlier than the previous
   * tenancy's end (an address is not given before it was released).
   */
  hold(addr: string, holder: T, from: number, same: (a: T, b: T) => boolean): void {
    let list = this.map.get(addr);
    if (!list) {
      this.map.set(addr, [{ holder, from }]);
      return;
    }
    const cur = list[0];
    if (cur.to === undefined && same(cur.holder, holder)) {
      cur.holder = holder;
      return;
    }
    // The same holder got the address back (a flap): reopen its tenancy.
    if (cur.to !== undefined && same(cur.holder, holder) && from <= cur.to + this.graceMs) {
      cur.holder = holder;
      delete cur.to;
      return;
    }
    cur.to ??= Math.max(cur.from, from);
    const start = Math.max(from, cur.to);
    list = [{ holder, from: start }, ...list];
    if (list.length > this.maxTenancies) list.length = this.maxTenancies;
    this.map.set(addr, list);
  }

  /** `holder` released `addr` at `at` (ms): the tenancy ends; the address still names it for the grace period. */
  release(addr: string, at: number, same: (h: T) => boolean): void {
    const list = this.map.get(addr);
    if (!list) return;
    for (const t of list) {
      if (t.to === undefined && same(t.holder)) t.to = Math.max(t.from, at);
    }
  }

  /** The holder of `addr` at `t` (ms since epoch), or undefined. */
  lookup(addr: string, t: number): T | undefined {
    const list = this.map.get(addr);
    if (!list) return undefined;
    for (const x of list) {
      if (x.from <= t && (x.to === undefined || t <= x.to + this.graceMs)) return x.holder;
    }
    return undefined;
  }

  /** The current (open) holder of `addr`, or undefined. */
  current(addr: string): T | undefined {
    const x = this.map.get(addr)?.[0];
    return x && x.to === undefined ? x.holder : undefined;
  }

  /** Tenancies of `addr`, newest first (a copy). */
  tenancies(addr: string): Tenancy<T>[] {
    return (this.map.get(addr) ?? []).map((x) => ({ ...x }));
  }

  /** Drops tenancies that ended more than the grace period before `now` (ms); an address left with none is forgotten. Returns how many were dropped. */
  prune(now: number): number {
    let n = 0;
    for (const [addr, list] of this.map) {
      const keep = list.filter((x) => x.to === undefined || x.to + this.graceMs >= now);
      n += list.length - keep.length;
      if (keep.length === 0) this.map.delete(addr);
      else if (keep.length !== list.length) this.map.set(addr, keep);
    }
    return n;
  }
}
