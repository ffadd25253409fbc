/**
 * SYN flood (`dos.synflood`, MITRE ATT&CK T1499.001 Endpoint Denial of Service: OS Exhaustion
 * Flood, whose description names the SYN flood; T1498.001 Direct Network Flood when the aim is the
 * link): many half-open TCP connections to ONE destination (address, port) within a window,
 * whatever their sources. Keyed by destination, so a flood from thousands of spoofed sources is one
 * key, and spraying sources cannot dilute it.
 *
 * Half-open = attempts - established, per destination:
 * - attempt: a TCP `new` event (a SYN conntrack tracks, state SYN_SENT or SYN_RECV), a `snapshot`
 *   line still in SYN_SENT/SYN_RECV, a `log` line logged with a drop verdict (a dropped SYN is never
 *   answered); for a destination that had no `new` event (a DESTROY-only collector), a `destroy` of
 *   a connection never [ASSURED] that ended in SYN_SENT, SYN_RECV or CLOSE (timed out or reset
 *   during the handshake: seen 10 to 120 s late), or, without a TCP state (an imported flow log),
 *   with no reply packet. Accept-logged lines are not attempts (they say
 *   nothing of the handshake's outcome);
 * - established: an `update` event entering ESTABLISHED (the handshake completed).
 * So a busy server whose clients complete their handshakes stays near zero, and a flood at a
 * closed port (answered by resets) or at a listening one (SYN-ACKs to nowhere) counts in full.
 *
 * The finding's entity — who the responder would block:
 * - one DOMINANT source (at least `dominantShare` of the attempts, by a Misra-Gries summary of 4
 *   counters, which never overestimates): that source (`evidence.entityRole: 'source'`), blockable;
 * - otherwise (spoofed or distributed sources): the VICTIM, the destination
 *   (`evidence.entityRole: 'victim'`, `evidence.distinctSources` estimated by linear counting over
 *   1024 bits, Whang et al. 1990, and the top sources). The responder never blocks a victim-role
 *   finding (packages/respond ignores it, cause `victim`): blocking random spoofed addresses would
 *   block bystanders, and blocking the entity would cut off the victim. A "dominant" source equal
 *   to the destination (a LAND attack, spoofed) is treated the same way.
 *
 * Window: counting starts at a destination's first attempt and runs `windowMs` (tumbling); a window
 * that reaches `minHalfOpen` raises the finding, which then stays open (counts accumulate) until the
 * destination has had no attempt for `windowMs`. Defaults: 200 half-open connections in 10 s, a rate
 * of 20 per second, the Suricata thresholding example for hping3 SYN floods (`flags:S; threshold:
 * type threshold, track by_dst, count 100, seconds 5`, forum.suricata.io "Configure Suricata as
 * IPS to prevent host from SYN flood"); hping3 -S --fast sends 10 per second, `-i u1000` 1000, and
 * `--flood` as fast as it can. Severity high.
 */
import type { Finding, FindingEntity, FlowRecord, Severity } from '@floe/flow';
import { eventTime, hasOwnTime } from './attempt.js';
import { intAtLeast, numberWithin, severityOf } from './check.js';
import { DEFAULT_PRODUCED_BY, scanScore, timingAndThreshold } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { checkLateness, defaultDetectorLimits } from './options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';
import { type RuleState, RuleKeys } from './rule.js';

/** Detector id of the SYN-flood detector. */
export const SYNFLOOD_ID = 'dos.synflood';

/** MITRE ATT&CK "Endpoint Denial of Service: OS Exhaustion Flood" (https://attack.mitre.org/techniques/T1499/001/). */
export const MITRE_OS_EXHAUSTION_FLOOD = 'T1499.001';

/** Thresholds of `dos.synflood` (policy `detectors.synflood`). */
export interface SynFloodOptions {
  /** Window in ms of event time (default 10000). */
  windowMs: number;
  /** Half-open TCP connections to one (destination, port) within the window that raise a finding (default 200). */
  minHalfOpen: number;
  /**
   * Share (0..1] of the attempts one source must have for the finding to name it (blockable);
   * below it the finding names the destination as victim and is never a block target (default 0.5).
   */
  dominantShare: number;
  /** Severity (default 'high'). */
  severity: Severity;
  /** Re-emit the finding (same id) each time its half-open count doubles (default true in the policy). */
  updateOnDouble?: boolean;
}

/** Defaults of {@link SynFloodOptions} (sources in the module comment). */
export function defaultSynFloodOptions(): SynFloodOptions {
  return { windowMs: 10_000, minHalfOpen: 200, dominantShare: 0.5, severity: 'high', updateOnDouble: true };
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkSynFloodOptions(o: SynFloodOptions, field = 'synflood'): Readonly<SynFloodOptions> {
  const share = numberWithin(`${field}.dominantShare`, o.dominantShare, 0, 1);
  if (share === 0) numberWithin(`${field}.dominantShare`, share, Number.MIN_VALUE, 1);
  return Object.freeze({
    windowMs: intAtLeast(`${field}.windowMs`, o.windowMs, 1),
    minHalfOpen: intAtLeast(`${field}.minHalfOpen`, o.minHalfOpen, 2),
    dominantShare: share,
    severity: severityOf(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** Counters of the Misra-Gries summary of sources. */
const TOP = 4;
/** Bits of the linear-counting bitmap of distinct sources. */
const BITS = 1024;

interface FloodState extends RuleState {
  /** Start of the counting window, first and newest attempt (ms). */
  start: number;
  first: number;
  newest: number;
  attempts: number;
  established: number;
  untimed: number;
  verdicts: { accept: number; drop: number; none: number };
  /** Misra-Gries summary: source, count (a lower bound of its attempts), a record of it (its enrichment). */
  src: Array<string | undefined>;
  cnt: number[];
  refs: Array<FlowRecord | undefined>;
  /** Linear-counting bitmap of the sources of attempts (allocated at the first attempt). */
  bits: Uint32Array | undefined;
  /** Half-open count at the last emission. */
  emitted: number;
  dstAddr: string;
  dstPort: number;
  /** The newest attempt record (the victim's enrichment). */
  last: FlowRecord;
  /** True once the destination had a `new` event: its DESTROY events then never count. */
  sawNew: boolean;
}

function newState(flow: FlowRecord, t: number): FloodState {
  return {
    episode: undefined,
    start: t,
    first: t,
    newest: t,
    attempts: 0,
    established: 0,
    untimed: 0,
    verdicts: { accept: 0, drop: 0, none: 0 },
    src: [undefined, undefined, undefined, undefined],
    cnt: [0, 0, 0, 0],
    refs: [undefined, undefined, undefined, undefined],
    bits: undefined,
    emitted: 0,
    dstAddr: flow.dstAddr,
    dstPort: flow.dstPort as number,
    last: flow,
    sawNew: false,
  };
}

function resetCounts(st: FloodState, t: number): void {
  st.start = t;
  st.first = t;
  st.newest = t;
  st.attempts = 0;
  st.established = 0;
  st.untimed = 0;
  st.verdicts = { accept: 0, drop: 0, none: 0 };
  st.src.fill(undefined);
  st.cnt.fill(0);
  st.refs.fill(undefined);
  st.bits?.fill(0);
  st.emitted = 0;
}

/** FNV-1a (32 bit) of a string, for the distinct-source bitmap. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Linear-counting estimate of distinct sources: -m ln(zero bits / m); saturated (>= m ln m) when no bit is zero. */
function distinctEstimate(bits: Uint32Array | undefined): { n: number; saturated: boolean } {
  if (bits === undefined) return { n: 0, saturated: false };
  let zeros = 0;
  for (const w of bits) {
    let x = ~w >>> 0;
    while (x !== 0) {
      x &= x - 1;
      zeros++;
    }
  }
  if (zeros === 0) return { n: Math.round(BITS * Math.log(BITS)), saturated: true };
  return { n: Math.round(-BITS * Math.log(zeros / BITS)), saturated: false };
}

/** Misra-Gries update with one attempt of `addr`. */
function countSource(st: FloodState, addr: string, flow: FlowRecord): void {
  let free = -1;
  for (let i = 0; i < TOP; i++) {
    if (st.src[i] === addr) {
      st.cnt[i]++;
      st.refs[i] = flow;
      return;
    }
    if (free < 0 && st.cnt[i] === 0) free = i;
  }
  if (free >= 0) {
    st.src[free] = addr;
    st.cnt[free] = 1;
    st.refs[free] = flow;
    return;
  }
  for (let i = 0; i < TOP; i++) {
    if (--st.cnt[i] === 0) {
      st.src[i] = undefined;
      st.refs[i] = undefined;
    }
  }
}

/** TCP states of a SYN not yet answered by a completed handshake. */
const HALF_OPEN = new Set(['SYN_SENT', 'SYN_RECV', 'SYN_SENT2']);

/**
 * +1 for an attempt, -1 for a completed handshake, 0 otherwise (see module comment); a `destroy`
 * that never completed its handshake is +1 here, and counts only for destinations without `new` events.
 */
export function synFloodSignal(flow: FlowRecord): number {
  switch (flow.event) {
    case 'new':
      return flow.state === undefined || HALF_OPEN.has(flow.state) ? 1 : 0;
    case 'update':
      return flow.state === 'ESTABLISHED' ? -1 : 0;
    case 'snapshot':
      return flow.state !== undefined && HALF_OPEN.has(flow.state) ? 1 : 0;
    case 'log':
      return flow.verdict === 'drop' ? 1 : 0;
    case 'destroy':
      if (flow.assured === true) return 0;
      // A flow record without a TCP state (an imported flow log): unanswered when nothing came back.
      if (flow.state === undefined) return flow.packetsReply === 0 ? 1 : 0;
      return HALF_OPEN.has(flow.state) || flow.state === 'CLOSE' ? 1 : 0;
    default:
      return 0;
  }
}

/**
 * Create the SYN-flood detector (`dos.synflood`). Memory: at most `limits.maxKeys` destinations
 * (about 900 bytes of heap a key with its 128-byte source bitmap, bench/rules.bench.ts); a destination with a tenth of the
 * threshold half-open is protected from eviction; evictions are counted.
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createSynFloodDetector(options: SynFloodOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkSynFloodOptions(options);
  const maxKeys = intAtLeast('limits.maxKeys', deps.limits?.maxKeys ?? defaultDetectorLimits().maxKeys, 1);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const W = o.windowMs;
  const N = o.minHalfOpen;
  const promoteAt = Math.max(2, Math.ceil(N / 10));

  const finding = (key: string, st: FloodState): Finding => {
    const ep = st.episode!;
    const halfOpen = Math.max(0, st.attempts - st.established);
    const timed = st.untimed === 0;
    let top = 0;
    for (let i = 1; i < TOP; i++) if (st.cnt[i] > st.cnt[top]) top = i;
    const topAddr = st.src[top];
    const dominant = topAddr !== undefined && topAddr !== st.dstAddr && st.cnt[top] >= o.dominantShare * st.attempts;
    const { n: distinct, saturated } = distinctEstimate(st.bits);
    const topSources: Array<{ addr: string; flows: number }> = [];
    for (let i = 0; i < TOP; i++) {
      const a = st.src[i];
      if (a !== undefined && st.cnt[i] > 0) topSources.push({ addr: a, flows: st.cnt[i] });
    }
    topSources.sort((a, b) => b.flows - a.flows);
    const target = `${st.dstAddr}:${st.dstPort}`;
    const timing = timingAndThreshold(ep.first, ep.last, timed, N, W);
    let entity: FindingEntity;
    let summary: string;
    let peers: string[];
    if (dominant) {
      const ref = st.refs[top] as FlowRecord;
      entity = { addr: topAddr };
      const m = ref.srcMeta;
      if (m?.namespace !== undefined) entity.namespace = m.namespace;
      if (m?.pod !== undefined) entity.pod = m.pod;
      if (m?.workload !== undefined) entity.workload = m.workload;
      peers = [st.dstAddr];
      summary = `${topAddr} flooded ${target} with ${halfOpen} half-open TCP connections (never established; ${st.cnt[top]}+ of ${st.attempts} SYNs its own)${timing}`;
    } else {
      entity = { addr: st.dstAddr };
      const m = st.last.dstMeta;
      if (m?.namespace !== undefined) entity.namespace = m.namespace;
      if (m?.pod !== undefined) entity.pod = m.pod;
      if (m?.workload !== undefined) entity.workload = m.workload;
      peers = topSources.map((s) => s.addr);
      summary = `${target} received ${halfOpen} half-open TCP connections from ${saturated ? 'at least ' : 'about '}${distinct} sources (spoofed or distributed: the destination is the victim, no source to block)${timing}`;
    }
    return {
      id: ep.id,
      schema: 1,
      firstSeen: ep.first,
      lastSeen: ep.last,
      detector: SYNFLOOD_ID,
      kind: 'detector',
      severity: o.severity,
      score: scanScore(halfOpen, N, timed ? ep.last - ep.first : W, W),
      entity,
      peers,
      summary,
      evidence: {
        flows: st.attempts,
        halfOpen,
        established: st.established,
        distinctSources: distinct,
        distinctSourcesSaturated: saturated,
        topSources,
        dominantShare: o.dominantShare,
        entityRole: dominant ? 'source' : 'victim',
        victim: st.dstAddr,
        dstPort: st.dstPort,
        ports: [st.dstPort],
        verdicts: { ...st.verdicts },
        windowMs: W,
        threshold: N,
        key,
        timesFromRecords: timed,
      },
      mitre: MITRE_OS_EXHAUSTION_FLOOD,
      producedBy,
    };
  };

  const keys = new RuleKeys<FloodState>({ detectorId: SYNFLOOD_ID, quietMs: W, staleMs: W, lastActivity: (s) => s.newest, finding }, maxKeys, checkLateness(deps.lateness));

  const observe = (flow: FlowRecord): Finding[] => {
    const t = eventTime(flow);
    let out = keys.tick(t);
    if (flow.protocol !== 6 || flow.dstPort === undefined || !Number.isFinite(t)) return out;
    const signal = synFloodSignal(flow);
    if (signal === 0) return out;
    const key = `${flow.dstAddr}|${flow.dstPort}`;
    let st = keys.touch(key);
    if (signal < 0) {
      // A completed handshake: only counts against a destination already seen.
      if (st !== undefined && t >= st.start) st.established++;
      return out;
    }
    if (st !== undefined && flow.event === 'destroy' && st.sawNew) return out;
    if (st === undefined) {
      st = newState(flow, t);
      out = keys.insert(key, st, out);
    } else if (st.episode !== undefined) {
      if (t - st.episode.last >= W) {
        out = keys.close(key, st, out);
        resetCounts(st, t);
      }
    } else if (t - st.start >= W) {
      resetCounts(st, t);
    }
    if (t < st.start - W) {
      keys.late();
      return out;
    }
    keys.attempt();
    if (flow.event === 'new') st.sawNew = true;
    st.attempts++;
    st.last = flow;
    if (t < st.first) st.first = t;
    if (t > st.newest) st.newest = t;
    if (!hasOwnTime(flow)) st.untimed++;
    if (flow.verdict === 'accept') st.verdicts.accept++;
    else if (flow.verdict === 'drop') st.verdicts.drop++;
    else st.verdicts.none++;
    countSource(st, flow.srcAddr, flow);
    const bits = (st.bits ??= new Uint32Array(BITS / 32));
    const h = fnv1a(flow.srcAddr) & (BITS - 1);
    bits[h >>> 5] |= 1 << (h & 31);
    const halfOpen = st.attempts - st.established;
    const ep = st.episode;
    if (ep !== undefined) {
      if (t < ep.first) ep.first = t;
      if (t > ep.last) ep.last = t;
      ep.dirty = true;
      if (o.updateOnDouble && halfOpen >= 2 * st.emitted) {
        st.emitted = halfOpen;
        out = keys.update(key, st, out);
      }
      return out;
    }
    if (halfOpen >= promoteAt) keys.promote(key);
    if (halfOpen < N) return out;
    st.emitted = halfOpen;
    return keys.raise(key, st, st.first, st.newest, flow, out);
  };

  const d: WindowDetector = {
    id: SYNFLOOD_ID,
    observe,
    expire: (nowMs) => keys.expire(nowMs),
    flush: () => keys.flush(),
    stats: () => keys.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}
