/**
 * Beaconing (`beacon.periodic`, MITRE ATT&CK T1071 Application Layer Protocol, the C2 channel;
 * T1029 Scheduled Transfer when data leaves on a schedule): one source connecting to one
 * destination (address, protocol, port) at regular intervals, with jitter tolerated.
 *
 * Check-ins: connections of a pair less than `minIntervalMs` after the previous one belong to the
 * same check-in (a burst of parallel requests, a retry), so a normal burst is one check-in, not a
 * tight "period". The pair keeps its last `historySize` check-in times (a bounded ring: constant
 * memory per pair). After each check-in, the check-ins of the last `windowMs` are taken: with at
 * least `minConnections` of them, their intervals' median and median absolute deviation (MAD) are
 * computed, and the pair beacons when MAD / median <= `maxJitter`.
 *
 * Defaults and where they come from: RITA (Active Countermeasures, activecm/rita) scores beacons by
 * the dispersion of the intervals between a pair's connections — their MAD relative to the median
 * interval — and their skew, over a day of Zeek logs; floe uses the same dispersion measure in a
 * streaming window. `maxJitter` 0.2 admits a uniform jitter of up to ±40 % of the sleep (MAD/median
 * of uniform jitter ±j is j/2; Cobalt Strike's `jitter` of 25 % gives 0.07) and rejects
 * independent (Poisson) arrivals, whose exponential intervals give MAD/median 0.69. `minConnections`
 * 10 (nine intervals): floe's choice, enough for a median and a MAD to mean something; a beacon at
 * Cobalt Strike's default 60-s sleep is reported after 9 minutes. `windowMs` 1 h: the intervals
 * looked at (a 6-minute sleep still gives 10 check-ins), and an open finding closes after an hour
 * without a check-in. `minIntervalMs` 1 s: floe's choice (C2 sleeps are seconds to hours).
 *
 * What counts: `new` and `log` records with their own time (a `conntrack -L` dump shows open
 * connections at one moment, not when they began, so `snapshot` and untimed records are ignored);
 * `destroy` only for pairs that never had a `new` (a DESTROY-only collector; a pair with NEW events
 * would count each connection twice, the DESTROY 120 s later after TIME_WAIT).
 * With `egressOnly` (default), flows the policy knows stay inside (`internal`) or come in
 * (`ingress`) are ignored: in-cluster health probes and metric scrapes are periodic too. `egress`,
 * `external` (neither end in the policy's networks: a host without networks in its policy, a
 * router's transit traffic) and unclassified flows count: nothing says they stay inside. Severity `medium`: below
 * the responder's default `minSeverity` (high), so a beacon is reported, not blocked (blocking the
 * beaconing host is a containment decision; the C2 address is the peer).
 */
import type { Finding, FlowRecord, Severity } from '@floe/flow';
import { eventTime, hasOwnTime } from './attempt.js';
import { intAtLeast, numberWithin, severityOf } from './check.js';
import { DetectError } from './errors.js';
import { entityOf } from './entity.js';
import { DEFAULT_PRODUCED_BY, spanPhrase } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { checkLateness, defaultDetectorLimits } from './options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';
import { type RuleState, RuleKeys } from './rule.js';
import { GateFollower } from './gate.js';

/** Detector id of the beacon detector. */
export const BEACON_ID = 'beacon.periodic';

/** MITRE ATT&CK "Application Layer Protocol" (https://attack.mitre.org/techniques/T1071/). */
export const MITRE_APPLICATION_LAYER_PROTOCOL = 'T1071';

/** Thresholds of `beacon.periodic` (policy `detectors.beacon`). */
export interface BeaconOptions {
  /** Check-ins older than this (ms) before the newest are not looked at; an open finding closes after this long without one (default 3600000). */
  windowMs: number;
  /** Check-ins within the window needed before the intervals are judged (default 10). */
  minConnections: number;
  /** Connections less than this far apart (ms) are one check-in (default 1000). */
  minIntervalMs: number;
  /** Largest MAD / median of the intervals that still counts as periodic (default 0.2). */
  maxJitter: number;
  /** Check-in times kept per pair (default 24; at least minConnections). */
  historySize: number;
  /** Ignore flows whose known direction is not egress (default true). */
  egressOnly: boolean;
  /** Severity (default 'medium': reported, not blocked). */
  severity: Severity;
  /** Re-emit the finding (same id) each time its check-in count doubles (default true in the policy). */
  updateOnDouble?: boolean;
}

/** Defaults of {@link BeaconOptions} (sources in the module comment). */
export function defaultBeaconOptions(): BeaconOptions {
  return { windowMs: 3_600_000, minConnections: 10, minIntervalMs: 1000, maxJitter: 0.2, historySize: 24, egressOnly: true, severity: 'medium', updateOnDouble: true };
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkBeaconOptions(o: BeaconOptions, field = 'beacon'): Readonly<BeaconOptions> {
  const minConnections = intAtLeast(`${field}.minConnections`, o.minConnections, 3);
  const historySize = intAtLeast(`${field}.historySize`, o.historySize, 3);
  if (historySize < minConnections) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', `${field}.historySize`, `must be >= minConnections ${minConnections}, got ${historySize}`);
  }
  if (typeof o.egressOnly !== 'boolean') throw new DetectError('FLOE_DETECT_BAD_OPTIONS', `${field}.egressOnly`, 'must be a boolean');
  return Object.freeze({
    windowMs: intAtLeast(`${field}.windowMs`, o.windowMs, 1),
    minConnections,
    minIntervalMs: intAtLeast(`${field}.minIntervalMs`, o.minIntervalMs, 0),
    maxJitter: numberWithin(`${field}.maxJitter`, o.maxJitter, 0, 10),
    historySize,
    egressOnly: o.egressOnly,
    severity: severityOf(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** Interval statistics of a pair's recent check-ins. */
export interface IntervalStats {
  /** Check-ins looked at. */
  checkins: number;
  /** Median interval (ms). */
  medianMs: number;
  /** Median absolute deviation of the intervals from their median (ms). */
  madMs: number;
  /** madMs / medianMs (Infinity when the median is 0). */
  jitter: number;
  /** Oldest and newest check-in looked at (ms). */
  first: number;
  last: number;
}

/** Sort the first `n` values of `a` in place (insertion sort: n is at most historySize, no allocation). */
function sortPrefix(a: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

/** Median of the first `n` values of `a`, sorting them in place. */
function medianOf(a: Float64Array, n: number): number {
  sortPrefix(a, n);
  const h = n >> 1;
  return n % 2 === 1 ? a[h] : (a[h - 1] + a[h]) / 2;
}

/**
 * Interval statistics of the times in `ring` (any order) that lie within `windowMs` before `newest`,
 * using `scratch` (length >= ring.length) and `scratch2`; undefined with fewer than `min` of them.
 */
export function intervalStats(ring: readonly number[], newest: number, windowMs: number, min: number, scratch: Float64Array, scratch2: Float64Array): IntervalStats | undefined {
  let n = 0;
  for (const x of ring) if (x > newest - windowMs) scratch[n++] = x;
  if (n < min) return undefined;
  sortPrefix(scratch, n);
  const t = scratch;
  const k = n - 1;
  for (let i = 0; i < k; i++) scratch2[i] = t[i + 1] - t[i];
  const med = medianOf(scratch2, k);
  for (let i = 0; i < k; i++) scratch2[i] = Math.abs(scratch2[i] - med);
  const mad = medianOf(scratch2, k);
  return { checkins: n, medianMs: med, madMs: mad, jitter: med > 0 ? mad / med : Infinity, first: t[0], last: t[k] };
}

/** Shared, never written placeholder of a pair's check-in ring until its second check-in (most pairs have one). */
const NO_TIMES: number[] = Object.freeze([]) as unknown as number[];

interface BeaconState extends RuleState {
  /** Check-in times (ring, arrival order). */
  times: number[];
  head: number;
  /** Newest check-in and newest connection time (ms). */
  newest: number;
  newestConn: number;
  /** True once the pair had a `new` event (its DESTROY events then never count). */
  sawNew: boolean;
  /** Counts of the open finding: check-ins and connections since its first check-in. */
  checkins: number;
  connections: number;
  /** Interval statistics when last judged periodic. */
  stats: IntervalStats | undefined;
  emitted: number;
  dstAddr: string;
  dstPort: number | undefined;
  protocol: number;
}

/**
 * Create the beacon detector (`beacon.periodic`). Memory: at most `limits.maxKeys` pairs, each
 * with at most `historySize` check-in times (about 660 bytes of heap a pair with one check-in,
 * key and addresses included, bench/rules.bench.ts); a
 * pair with three check-ins is protected from eviction by one-shot pairs; evictions are counted.
 * Cost per counted record: O(1), plus, per check-in of a pair with `minConnections` or more,
 * sorting at most `historySize` numbers in preallocated arrays.
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createBeaconDetector(options: BeaconOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkBeaconOptions(options);
  const maxKeys = intAtLeast('limits.maxKeys', deps.limits?.maxKeys ?? defaultDetectorLimits().maxKeys, 1);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const W = o.windowMs;
  const scratch = new Float64Array(o.historySize);
  const scratch2 = new Float64Array(o.historySize);

  const finding = (key: string, st: BeaconState): Finding => {
    const ep = st.episode!;
    const s = st.stats!;
    const dst = st.dstPort === undefined ? st.dstAddr : `${st.dstAddr}:${st.dstPort}`;
    const every = s.medianMs < 10_000 ? `${(s.medianMs / 1000).toFixed(1)} s` : `${Math.round(s.medianMs / 1000)} s`;
    const jitterPct = Math.round(s.jitter * 1000) / 10;
    return {
      id: ep.id,
      schema: 1,
      firstSeen: ep.first,
      lastSeen: ep.last,
      detector: BEACON_ID,
      kind: 'detector',
      severity: o.severity,
      score: Math.round(Math.max(0, Math.min(1, 1 - (0.5 * s.jitter) / Math.max(o.maxJitter, 1e-9))) * 1000) / 1000,
      entity: entityOf(ep.ref),
      peers: [st.dstAddr],
      summary: `${ep.ref.srcAddr} connected to ${dst} every ${every} (median; MAD ${jitterPct} % of it) ${st.checkins} times ${spanPhrase(ep.first, ep.last)} (periodic: at least ${o.minConnections} check-ins, MAD/median <= ${o.maxJitter})`,
      evidence: {
        flows: st.connections,
        checkins: st.checkins,
        intervalMs: s.medianMs,
        madMs: s.madMs,
        jitter: Math.round(s.jitter * 1000) / 1000,
        judgedCheckins: s.checkins,
        protocol: st.protocol,
        dstPort: st.dstPort,
        ports: st.dstPort === undefined ? [] : [st.dstPort],
        windowMs: W,
        threshold: o.minConnections,
        maxJitter: o.maxJitter,
        minIntervalMs: o.minIntervalMs,
        entityRole: 'source',
        key,
        timesFromRecords: true,
      },
      mitre: MITRE_APPLICATION_LAYER_PROTOCOL,
      producedBy,
    };
  };

  const keys = new RuleKeys<BeaconState>({ detectorId: BEACON_ID, quietMs: W, staleMs: W, lastActivity: (s) => s.newestConn, finding }, maxKeys, checkLateness(deps.lateness));

  /** True when `flow` is a check-in candidate: a timed NEW, LOG or DESTROY, not known to stay inside or come in (egressOnly). */
  const counts = (flow: FlowRecord, t: number): boolean => {
    const ev = flow.event;
    if ((ev !== 'new' && ev !== 'log' && ev !== 'destroy') || !Number.isFinite(t) || !hasOwnTime(flow)) return false;
    return !(o.egressOnly && (flow.direction === 'internal' || flow.direction === 'ingress'));
  };

  const follow = deps.gate === undefined ? undefined : new GateFollower(deps.gate);
  const observe = (flow: FlowRecord): Finding[] => {
    const t = eventTime(flow);
    let out = keys.tick(t);
    if (follow !== undefined) {
      // The scan detectors' gate (gate.ts GateFollower): one check-in raises nothing, so a source's
      // first record counts right before its next one.
      if (!follow.admit(flow, false)) return out;
      const b = follow.before;
      if (b !== undefined) {
        const tb = eventTime(b);
        if (counts(b, tb)) out = checkIn(b, tb, out);
      }
    }
    if (!counts(flow, t)) return out;
    return checkIn(flow, t, out);
  };

  /** Count `flow` (a check-in candidate at `t`) for its pair. */
  const checkIn = (flow: FlowRecord, t: number, out: Finding[]): Finding[] => {
    const ev = flow.event;
    const key = `${flow.srcAddr}|${flow.dstAddr}|${flow.protocol}|${flow.dstPort ?? ''}`;
    let st = keys.touch(key);
    if (st === undefined) {
      st = {
        episode: undefined,
        times: NO_TIMES,
        head: 0,
        newest: -Infinity,
        newestConn: -Infinity,
        sawNew: false,
        checkins: 0,
        connections: 0,
        stats: undefined,
        emitted: 0,
        dstAddr: flow.dstAddr,
        dstPort: flow.dstPort,
        protocol: flow.protocol,
      };
      out = keys.insert(key, st, out);
    }
    if (ev === 'new') st.sawNew = true;
    else if (ev === 'destroy' && st.sawNew) return out;
    keys.attempt();
    if (st.episode !== undefined && t - st.episode.last >= W) {
      out = keys.close(key, st, out);
      st.checkins = 0;
      st.connections = 0;
      st.emitted = 0;
    }
    if (st.episode !== undefined) st.connections++;
    const merged = Math.abs(t - st.newestConn) < o.minIntervalMs;
    if (t > st.newestConn) st.newestConn = t;
    if (merged) return out;
    // A new check-in.
    // A one-element literal for the first check-in: most keys (one-shot sources) never get a
    // second, and [] grows to 16 slots at its first push.
    if (st.times === NO_TIMES) st.times = [t];
    else if (st.times.length < o.historySize) st.times.push(t);
    else {
      st.times[st.head] = t;
      st.head = (st.head + 1) % o.historySize;
    }
    if (t > st.newest) st.newest = t;
    if (st.times.length === 3) keys.promote(key);
    const ep = st.episode;
    if (ep !== undefined) {
      st.checkins++;
      if (t > ep.last) ep.last = t;
      ep.dirty = true;
      const s = intervalStats(st.times, st.newest, W, o.minConnections, scratch, scratch2);
      if (s !== undefined && s.jitter <= o.maxJitter) st.stats = s;
      if (o.updateOnDouble && st.checkins >= 2 * st.emitted) {
        st.emitted = st.checkins;
        out = keys.update(key, st, out);
      }
      return out;
    }
    if (st.times.length < o.minConnections) return out;
    const s = intervalStats(st.times, st.newest, W, o.minConnections, scratch, scratch2);
    if (s === undefined || s.jitter > o.maxJitter || s.medianMs < o.minIntervalMs) return out;
    st.stats = s;
    st.checkins = s.checkins;
    st.connections = s.checkins;
    st.emitted = s.checkins;
    return keys.raise(key, st, s.first, s.last, flow, out);
  };

  const d: WindowDetector = {
    id: BEACON_ID,
    observe,
    expire: (nowMs) => keys.expire(nowMs),
    flush: () => keys.flush(),
    stats: () => keys.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}
