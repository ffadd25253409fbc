/**
 * First-sighting gate shared by the scan detectors (`createDetectors`): a source's FIRST connection
 * attempt is held here, once for all of them, instead of each detector building its keys and
 * window state for it. Internet background noise is mostly sources seen once (one spoofed or
 * random SYN each): they then cost one lookup and one held record, not three keys, three windows
 * and a connection identity. On the source's second attempt (another connection), the held record
 * is RELEASED: every scan detector counts it, then the new one, exactly as if both had come
 * through (the window's times are the records' own, so counting the first one late changes
 * nothing: first/last seen, counts and the finding id are the same). From then on the source's
 * records pass straight through.
 *
 * Every threshold of the scan detectors is at least 2 distinct items, so a source with one attempt
 * can raise nothing: holding its attempt loses no finding. Events of the held connection itself
 * (its UPDATE, its DESTROY; the same connection identity, see attempt.ts) keep it held, moved to
 * its earliest event as the connection memory would.
 *
 * Bounded like detector keys: a segmented LRU of `capacity` sources ({@link SourceSlru}, the
 * policy of keyed.ts BoundedKeys); held sources sit in probation, released sources are promoted
 * (protected), so a spray of one-shot sources evicts only other held one-shot sources (`evicted`),
 * never a source that is past its first attempt. A released source that is evicted anyway
 * (protected full) is held again at its next attempt: that attempt then counts when the source
 * sends another.
 *
 * Cost: nearly every record of internet background noise is a new source, so holding one must
 * allocate nothing that survives. An IPv4 source is a 32-bit key in an open-addressing table and
 * its held attempt sits in columns ({@link HeldRecords}, in a record slot of its own, freed when
 * the source is released: a released source keeps only its key, its list links and two small
 * numbers); the record is rebuilt only when the source comes back. O(1) per record (eviction
 * included); an IPv6 source costs a Map entry and a held copy of its record, as every source did
 * before.
 *
 * Several detectors ask about one record: the first computes, the others get the same answer
 * (caller bits, as `SeenConnections`).
 */
import type { FlowRecord } from '@floe/flow';
import { connectionIdentity, eventTime } from './attempt.js';
import { HeldRecords } from './held-record.js';
import { SourceSlru } from './source-slru.js';

/** Answer of {@link FirstSightGate.check}: hold the record (count nothing now). */
export const HOLD = 0;
/** Answer of {@link FirstSightGate.check}: count the record as usual. */
export const PASS = 1;
/** Answer of {@link FirstSightGate.check}: count `released` first, then the record. */
export const RELEASE = 2;

/** Share of the gate released (protected) sources may hold. */
export const GATE_PROTECTED_SHARE = 0.8;

/** Followers ({@link GateFollower}) one gate serves at most (one bit each in a byte per source). */
export const GATE_FOLLOWERS_MAX = 8;

/**
 * The first-sighting gate (see the module comment): `check` answers HOLD, PASS or RELEASE for an
 * attempt event; `answerFor` repeats the answer to followers ({@link GateFollower}). At most
 * `capacity` sources, held and released together.
 */
export class FirstSightGate {
  private readonly sources: SourceSlru;
  /** The held first attempts, in record slots of their own (freed on release, so released sources hold no record columns). */
  private readonly records: HeldRecords;
  /** Per source slot: its record slot + 1 while the source is held, 0 once it was released (its attempt counted). */
  private heldIn: Int32Array;
  /** Record slots free for reuse (a stack), and the next record slot never used. */
  private freeRecords: Int32Array = new Int32Array(64);
  private freeCount = 0;
  private recordTop = 0;
  /** Per slot: bits of the followers that already counted the held record ({@link GateFollower}). */
  private shown: Uint8Array;
  private lastFlow: FlowRecord | undefined = undefined;
  private lastAnswer = PASS;
  private lastCallers = 0;
  private lastSlot = -1;
  private callers = 0;
  private followers = 0;
  /** The held record to count before the current one, when the answer is RELEASE. */
  released: FlowRecord | undefined = undefined;
  /** Followers that had counted {@link released} before its release (bits, see {@link follow}). */
  releasedShown = 0;
  /**
   * When the answer is HOLD: the record held before the decision (undefined when the record is the
   * source's first, now held), and the followers that had counted it (bits). A follower that
   * counts every event of a connection (exfil.volume) reads them: see {@link GateFollower}.
   */
  heldBefore: FlowRecord | undefined = undefined;
  heldBeforeShown = 0;
  /** Sources released so far. */
  releasedCount = 0;
  /** Attempts held so far (first attempts of sources). */
  held = 0;

  /**
   * @param capacity sources tracked at most (held and released), >= 1.
   * @throws RangeError when capacity < 1.
   */
  constructor(readonly capacity: number) {
    this.sources = new SourceSlru(capacity, GATE_PROTECTED_SHARE, (n) => this.grow(n));
    const n = this.sources.slots;
    this.records = new HeldRecords();
    this.heldIn = new Int32Array(n);
    this.shown = new Uint8Array(n);
  }

  /** A caller bit for {@link check} (at most 30 callers). @throws RangeError beyond 30. */
  register(): number {
    if (this.callers >= 30) throw new RangeError('at most 30 detectors share one gate');
    return 1 << this.callers++;
  }

  /** A follower bit for {@link markShown} (at most {@link GATE_FOLLOWERS_MAX}). @throws RangeError beyond. */
  follow(): number {
    if (this.followers >= GATE_FOLLOWERS_MAX) throw new RangeError(`at most ${GATE_FOLLOWERS_MAX} detectors follow one gate`);
    return 1 << this.followers++;
  }

  /** Sources held now (one attempt each) and released now. */
  get size(): number {
    return this.sources.size;
  }

  /** Held sources dropped to make room (their one attempt is then never counted). */
  get evicted(): number {
    return this.sources.evicted.probation + this.sources.evicted.protected;
  }

  /** Record slots in use (sources held now) and ever made (the high-water mark of held sources). */
  get recordSlots(): { used: number; made: number } {
    return { used: this.recordTop - this.freeCount, made: this.recordTop };
  }

  /** Held records kept in compact form and as objects so far (see held-record.ts). */
  get storedForms(): { compact: number; object: number } {
    return { ...this.records.stored };
  }

  /**
   * What to do with an attempt event `flow` (not an `update`): HOLD, PASS, or RELEASE (count
   * {@link released} first, then `flow`). The same answer for every caller about one record.
   */
  check(flow: FlowRecord, caller: number): number {
    if (flow === this.lastFlow && (this.lastCallers & caller) === 0) {
      this.lastCallers |= caller;
      return this.lastAnswer;
    }
    const a = this.decide(flow);
    this.lastFlow = flow;
    this.lastAnswer = a;
    this.lastCallers = caller;
    return a;
  }

  /**
   * The answer the scan detectors already gave about `flow` (they come first in `createDetectors`
   * and ask about every attempt event), for a detector that follows the gate without changing it
   * (`beacon.periodic`, `lateral.newpeer` for address entities): HOLD, RELEASE (count
   * {@link released} first) or PASS. PASS when no one asked about `flow` (a record the scan
   * detectors do not count): the follower then counts it at once, as without a gate.
   */
  answerFor(flow: FlowRecord): number {
    return flow === this.lastFlow ? this.lastAnswer : PASS;
  }

  /**
   * The follower `bit` counted the record the gate holds after its last answer, HOLD (so it does
   * not count it again when it is released or comes before a later event of its connection).
   */
  markShown(bit: number): void {
    if (this.lastAnswer === HOLD && this.lastSlot >= 0) this.shown[this.lastSlot] |= bit;
  }

  private decide(flow: FlowRecord): number {
    const src = flow.srcAddr;
    const slot = this.sources.touch(src);
    if (slot < 0) {
      // A new source; a slot reused from an evicted held source hands its record slot on.
      const s = this.sources.insert(src);
      let r = this.heldIn[s] - 1;
      if (r < 0) {
        r = this.freeCount > 0 ? this.freeRecords[--this.freeCount] : this.recordTop++;
        this.heldIn[s] = r + 1;
      }
      this.records.store(r, flow, this.sources.bitsOf(s));
      this.shown[s] = 0;
      this.lastSlot = s;
      this.held++;
      this.heldBefore = undefined;
      this.heldBeforeShown = 0;
      return HOLD;
    }
    this.lastSlot = slot;
    const r = this.heldIn[slot] - 1;
    if (r < 0) return PASS;
    const held = this.records.load(r);
    const shown = this.shown[slot];
    if (connectionIdentity(held) === connectionIdentity(flow)) {
      // The held connection again: keep its earliest event (on a tie its NEW), as the connection memory does.
      const t = eventTime(flow);
      const h = eventTime(held);
      this.heldBefore = held;
      this.heldBeforeShown = shown;
      if (t < h || (t === h && flow.event === 'new' && held.event !== 'new')) {
        this.records.store(r, flow, this.sources.bitsOf(slot));
        this.shown[slot] = 0;
      }
      return HOLD;
    }
    this.records.drop(r);
    this.heldIn[slot] = 0;
    if (this.freeCount === this.freeRecords.length) this.freeRecords = grown(this.freeRecords, this.freeCount * 2);
    this.freeRecords[this.freeCount++] = r;
    this.sources.promote(slot);
    this.released = held;
    this.releasedShown = shown;
    this.releasedCount++;
    return RELEASE;
  }

  private grow(n: number): void {
    this.heldIn = grown(this.heldIn, n);
    this.shown = grown(this.shown, n);
  }
}

/** A copy of `a` with length `n` (the new tail zeroed). */
function grown<T extends Uint8Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/**
 * How a detector that is not a scan detector follows the gate (`createDetectors`: bruteforce.auth,
 * beacon.periodic, exfil.volume, lateral.newpeer): it skips a source's held first record and counts
 * it right before the source's next record (a later event of the same connection, or the attempt
 * that releases it), so each source's records reach it in their own order, all of them, except the
 * first record of a source never seen again (which can raise nothing alone in these detectors; or
 * the detector says to count it at once, marked so that it does not count twice). The marks are a
 * bit per follower in a byte per source of the gate ({@link FirstSightGate.markShown}): nothing is
 * allocated per source.
 * @throws RangeError when the gate already has {@link GATE_FOLLOWERS_MAX} followers.
 */
export class GateFollower {
  private readonly bit: number;
  /** Set by {@link admit}: a held record of the same source to count before the current one, or undefined. */
  before: FlowRecord | undefined = undefined;

  constructor(readonly gate: FirstSightGate) {
    this.bit = gate.follow();
  }

  /**
   * Whether to count `flow` now (after {@link before} when set). Ask about every record the
   * detector counts, after the scan detectors have seen it. `countFirst`: count the source's first
   * record at once rather than on its next (it could reach a threshold alone).
   */
  admit(flow: FlowRecord, countFirst: boolean): boolean {
    this.before = undefined;
    const gate = this.gate;
    const g = gate.answerFor(flow);
    if (g === HOLD) {
      const b = gate.heldBefore;
      if (b === undefined) {
        if (!countFirst) return false;
      } else if ((gate.heldBeforeShown & this.bit) === 0) this.before = b;
      gate.markShown(this.bit);
    } else if (g === RELEASE) {
      if ((gate.releasedShown & this.bit) === 0) this.before = gate.released;
    }
    return true;
  }
}
