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
 * Bounded like detector keys: a {@link BoundedKeys} of `capacity` sources; held sources sit in
 * probation, released sources are promoted (protected), so a spray of one-shot sources evicts only
 * other held one-shot sources (`evicted`), never a source that is past its first attempt. A
 * released source that is evicted anyway (protected full) is held again at its next attempt: that
 * attempt then counts when the source sends another.
 *
 * Several detectors ask about one record: the first computes, the others get the same answer
 * (caller bits, as `SeenConnections`).
 */
import type { FlowRecord } from '@floe/flow';
import { BoundedKeys } from './keyed.js';
import { connectionIdentity, eventTime } from './attempt.js';
import { detachRecord } from './retain.js';

/** Answer of {@link FirstSightGate.check}: hold the record (count nothing now). */
export const HOLD = 0;
/** Answer of {@link FirstSightGate.check}: count the record as usual. */
export const PASS = 1;
/** Answer of {@link FirstSightGate.check}: count `released` first, then the record. */
export const RELEASE = 2;

/** Share of the gate released (protected) sources may hold. */
export const GATE_PROTECTED_SHARE = 0.8;

export class FirstSightGate {
  /** Source address -> its held first attempt, or null once released. */
  private readonly sources: BoundedKeys<FlowRecord | null>;
  private lastFlow: FlowRecord | undefined = undefined;
  private lastAnswer = PASS;
  private lastCallers = 0;
  private callers = 0;
  /** The held record to count before the current one, when the answer is RELEASE. */
  released: FlowRecord | undefined = undefined;
  /**
   * When the answer is HOLD: the record held before the decision (undefined when the record is the
   * source's first, now held) and the one held after it (the record's copy when it is the
   * connection's earliest event, else the same as before). A follower that counts every event of
   * a connection (exfil.volume) reads them: see {@link answerFor}.
   */
  heldBefore: FlowRecord | undefined = undefined;
  heldAfter: FlowRecord | undefined = undefined;
  /** Sources released so far. */
  releasedCount = 0;
  /** Attempts held so far (first attempts of sources). */
  held = 0;

  /**
   * @param capacity sources tracked at most (held and released), >= 1.
   * @throws RangeError when capacity < 1.
   */
  constructor(readonly capacity: number) {
    this.sources = new BoundedKeys<FlowRecord | null>(capacity, GATE_PROTECTED_SHARE);
  }

  /** A caller bit for {@link check} (at most 30 callers). @throws RangeError beyond 30. */
  register(): number {
    if (this.callers >= 30) throw new RangeError('at most 30 detectors share one gate');
    return 1 << this.callers++;
  }

  /** Sources held now (one attempt each) and released now. */
  get size(): number {
    return this.sources.size;
  }

  /** Held sources dropped to make room (their one attempt is then never counted). */
  get evicted(): number {
    return this.sources.evicted.probation + this.sources.evicted.protected;
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

  private decide(flow: FlowRecord): number {
    const src = flow.srcAddr;
    const held = this.sources.touch(src);
    if (held === null) return PASS;
    if (held === undefined) {
      // A copy, so that the held record does not pin the input text its strings were cut from.
      const copy = detachRecord(flow);
      this.sources.add(copy.srcAddr, copy);
      this.held++;
      this.heldBefore = undefined;
      this.heldAfter = copy;
      return HOLD;
    }
    if (connectionIdentity(held) === connectionIdentity(flow)) {
      // The held connection again: keep its earliest event (on a tie its NEW), as the connection memory does.
      const t = eventTime(flow);
      const h = eventTime(held);
      this.heldBefore = held;
      this.heldAfter = held;
      if (t < h || (t === h && flow.event === 'new' && held.event !== 'new')) {
        this.heldAfter = detachRecord(flow);
        this.sources.set(src, this.heldAfter);
      }
      return HOLD;
    }
    this.sources.set(src, null);
    this.sources.promote(src);
    this.released = held;
    this.releasedCount++;
    return RELEASE;
  }
}

/**
 * How a detector that is not a scan detector follows the gate (`createDetectors`: bruteforce.auth,
 * beacon.periodic, exfil.volume, lateral.newpeer): it skips a source's held first record and counts
 * it right before the source's next record (a later event of the same connection, or the attempt
 * that releases it), so each source's records reach it in their own order, all of them, except the
 * first record of a source never seen again (which can raise nothing alone in these detectors; or
 * the detector says to count it at once, marked so that it does not count twice). One WeakSet entry
 * per held record counted before its release; nothing per source otherwise.
 */
export class GateFollower {
  private readonly shown = new WeakSet<FlowRecord>();
  /** Set by {@link admit}: a held record of the same source to count before the current one, or undefined. */
  before: FlowRecord | undefined = undefined;

  constructor(readonly gate: FirstSightGate) {}

  /**
   * Whether to count `flow` now (after {@link before} when set). Ask about every record the
   * detector counts, after the scan detectors have seen it. `countFirst`: count the source's first
   * record at once rather than on its next (it could reach a threshold alone).
   */
  admit(flow: FlowRecord, countFirst: boolean): boolean {
    this.before = undefined;
    const g = this.gate.answerFor(flow);
    if (g === HOLD) {
      const b = this.gate.heldBefore;
      if (b === undefined) {
        if (!countFirst) return false;
      } else if (!this.shown.has(b)) this.before = b;
      this.shown.add(this.gate.heldAfter as FlowRecord);
    } else if (g === RELEASE) {
      const r = this.gate.released as FlowRecord;
      if (!this.shown.has(r)) this.before = r;
    }
    return true;
  }
}
