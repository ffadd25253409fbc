/**
 * `exfil.volume`: a source inside the cluster sends far more bytes to destinations outside it than
 * it usually does (MITRE ATT&CK T1048 Exfiltration Over Alternative Protocol; T1041 over a C2
 * channel looks the same in flow records).
 *
 * Which flows: egress ones, as the compiled policy classified them (`flow.direction === 'egress'`:
 * source in `networks.*`, destination outside). A policy with no networks gives flows no direction;
 * then a destination counts as outside when it is a public address (not private, CGNAT, loopback,
 * link-local, multicast or reserved: {@link NON_PUBLIC}), so a lone host is still covered.
 *
 * Bytes: `bytesOrig` is out (source to destination), `bytesReply` in. conntrack reports counters
 * only in DESTROY events (with `nf_conntrack_acct=1`; a TCP connection's DESTROY comes when its
 * TIME_WAIT entry expires, 120 s after it closed) and in dumps (`snapshot`); a flow-log line
 * (`log`) is a whole flow. A connection's bytes count ONCE: each counter-bearing event adds its
 * difference from the same connection's previous counters (remembered per connection identity
 * until its DESTROY, at most `limits.maxConnections`; an evicted connection's next counters count
 * whole again, counted in `evictedConnections`). Bytes count in the window of the event that
 * reports them (`end`, else the event time): a DESTROY after TIME_WAIT lands two minutes after the
 * upload.
 *
 * Windows: tumbling, `windowMs` long, aligned to multiples of it since the epoch, per source
 * address. A window RAISES a finding as soon as its bytes out reach
 * `max(minBytes, mean + sigmas * sd)` of the source's baseline (EWMA over its previous windows
 * with egress, {@link ewmaThreshold}; `minBytes` alone for its first `learnWindows` windows) while
 * its producer-consumer ratio `(out - in) / (out + in)` is at least `minPcr`; it is emitted again
 * (`update`) each time its bytes out double, and in final form when it closes. A window with a
 * finding does not enter the baseline (a long exfiltration must not become normal); windows
 * without egress do not either (the baseline is bytes per active window).
 *
 * State: one entry per source (`limits.maxKeys`, BoundedKeys); a source whose baseline is learnt
 * is promoted to the protected segment, so spraying one-shot sources cannot erase it. O(1) per
 * record (a few Map operations); allocation only for counter-bearing egress events.
 */
import type { EndpointMeta, Finding, FlowRecord } from '@floe/flow';
import { CidrSet } from '@floe/policy';
import { connectionIdentity, eventTime, hasOwnTime } from './attempt.js';
import { ewmaThreshold, ewmaUpdate, newEwma, type Ewma } from './baseline.js';
import { BoundedKeys } from './keyed.js';
import { GateFollower } from './gate.js';
import { entityOfSource } from './entity.js';
import { detach } from './retain.js';
import { NONE, OpenEpisodes, countFinding, episodeDetector, episodeEmitter, newStats, type Episode } from './episodes.js';
import { DEFAULT_PRODUCED_BY, findingId } from './finding.js';
import { checkLateness, checkLimits } from './options.js';
import { checkExfilOptions, type ExfilOptions } from './rule-options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the exfiltration detector. */
export const EXFIL_ID = 'exfil.volume';

/** MITRE ATT&CK "Exfiltration Over Alternative Protocol" (https://attack.mitre.org/techniques/T1048/). */
export const MITRE_EXFILTRATION = 'T1048';

/** Destinations listed in a finding's evidence, at most (largest first). */
export const EXFIL_DESTINATIONS_KEPT = 10;

/**
 * Prefixes that are not public destinations (used only when a flow has no direction): RFC 1918,
 * RFC 6598 CGNAT, loopback, link-local, multicast, "this network", reserved 240/4 and broadcast;
 * IPv6 unspecified, loopback, ULA fc00::/7, link-local and multicast.
 */
export const NON_PUBLIC: readonly string[] = Object.freeze([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
]);

const nonPublic = new CidrSet();
for (const c of NON_PUBLIC) nonPublic.add(c);

/** The last destination looked up in NON_PUBLIC and whether it is public (records of a node repeat its address). */
let lastDst = '';
let lastPublic = false;

/** True when the flow leaves the cluster: direction `egress`, or, with no direction, a public destination. */
export function leavesCluster(flow: FlowRecord): boolean {
  if (flow.direction !== undefined) return flow.direction === 'egress';
  const d = flow.dstAddr;
  if (d !== lastDst) {
    lastPublic = !nonPublic.has(d);
    lastDst = detach(d); // not the input line it was cut from (retain.ts)
  }
  return lastPublic;
}

interface ExfilState extends Episode {
  /** Start of the current window (ms); -Infinity before the first. */
  winStart: number;
  out: number;
  in: number;
  /** Counter-bearing events counted in the window. */
  events: number;
  first: number;
  last: number;
  untimed: number;
  /**
   * Bytes out per destination in the window (at most 64 destinations; the rest in `otherOut`): the
   * first destination inline (`dst0`, `dst0Out`; most sources have one), the others in `dsts`,
   * made at the second (no Map per one-destination source).
   */
  dst0: string | undefined;
  dst0Out: number;
  dsts: Map<string, number> | undefined;
  otherOut: number;
  /** Bytes out that raise a finding in this window (fixed at the window's start). */
  threshold: number;
  baseline: Ewma;
  /** Bytes out when the finding was last emitted; 0 while none was raised in this window. */
  emittedOut: number;
  dirty: boolean;
  /** True while the window's finding is open (in the episodes set). */
  open: boolean;
  /**
   * The source's enrichment on the window's first counted flow (the finding's entity: the key and
   * this). Not the flow itself: a record held per source would pin its input line (retain.ts).
   */
  refMeta: EndpointMeta | undefined;
  /** Whether the window counted a flow yet (refMeta is then set). */
  hasRef: boolean;
}

const DSTS_TRACKED = 64;

/** Shared, never written baseline of a source until its first window is folded in (most sources have one window). */
const NO_BASELINE: Ewma = Object.freeze(newEwma()) as Ewma;

/** The window's destinations and their bytes out, in no particular order. */
function destinations(s: ExfilState): Array<[string, number]> {
  const list: Array<[string, number]> = s.dst0 === undefined ? [] : [[s.dst0, s.dst0Out]];
  if (s.dsts !== undefined) for (const e of s.dsts) list.push(e);
  return list;
}

/** Number of destinations tracked in the window. */
function destinationCount(s: ExfilState): number {
  return (s.dst0 === undefined ? 0 : 1) + (s.dsts === undefined ? 0 : s.dsts.size);
}

/** Add `bytes` out to `addr` in the window (a new destination past DSTS_TRACKED goes to `otherOut`). */
function addDestination(s: ExfilState, addr: string, bytes: number): void {
  if (s.dst0 === addr) s.dst0Out += bytes;
  else if (s.dst0 === undefined) {
    s.dst0 = detach(addr);
    s.dst0Out = bytes;
  } else {
    const m = (s.dsts ??= new Map());
    const d = m.get(addr);
    if (d !== undefined) m.set(addr, d + bytes);
    else if (1 + m.size < DSTS_TRACKED) m.set(detach(addr), bytes);
    else s.otherOut += bytes;
  }
}

/** Counters last seen per connection (bytes out, bytes in). */
interface Counters {
  o: number;
  i: number;
}

/**
 * Create the exfiltration detector (`exfil.volume`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createExfilDetector(options: ExfilOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkExfilOptions(options);
  const limits = checkLimits(deps.limits, 1);
  const lateness = checkLateness(deps.lateness);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const W = o.windowMs;
  const stats = newStats();
  const states = new BoundedKeys<ExfilState>(limits.maxKeys);
  const conns = new BoundedKeys<Counters>(limits.maxConnections);
  let highWater = -Infinity;

  const build = (key: string, s: ExfilState): Finding => {
    const total = s.out + s.in;
    const pcr = total === 0 ? 0 : (s.out - s.in) / total;
    const dsts = destinations(s)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, EXFIL_DESTINATIONS_KEPT);
    const sd = Math.sqrt(Math.max(0, s.baseline.variance));
    const learnt = s.baseline.n >= o.learnWindows;
    const timed = s.untimed === 0;
    const base = learnt
      ? `baseline ${fmtBytes(s.baseline.mean)} ± ${fmtBytes(sd)} per window over ${s.baseline.n} windows`
      : `no baseline yet (${s.baseline.n} of ${o.learnWindows} windows)`;
    return {
      id: s.id,
      schema: 1,
      firstSeen: s.first,
      lastSeen: s.last,
      detector: EXFIL_ID,
      kind: 'detector',
      severity: o.severity,
      score: Math.round((1 - 0.5 * Math.min(1, s.threshold / Math.max(1, s.out))) * 1000) / 1000,
      entity: entityOfSource(key, s.refMeta),
      peers: dsts.map((d) => d[0]),
      summary: `${key} sent ${fmtBytes(s.out)} out of the cluster to ${destinationCount(s)}${s.otherOut > 0 ? '+' : ''} destination(s) in a ${W / 1000} s window (received ${fmtBytes(s.in)}, PCR ${pcr.toFixed(2)}); ${base}; threshold ${fmtBytes(s.threshold)}`,
      evidence: {
        flows: s.events,
        bytes: s.out,
        bytesOut: s.out,
        bytesIn: s.in,
        pcr: Math.round(pcr * 1000) / 1000,
        threshold: Math.round(s.threshold),
        baselineMean: Math.round(s.baseline.mean),
        baselineSd: Math.round(sd),
        baselineWindows: s.baseline.n,
        baselineLearnt: learnt,
        windowStart: s.winStart,
        windowMs: W,
        destinations: dsts.map(([addr, bytes]) => ({ addr, bytes })),
        timesFromRecords: timed,
      },
      mitre: MITRE_EXFILTRATION,
      producedBy,
    };
  };

  const episodes = new OpenEpisodes<ExfilState>(lateness, (key, s) => {
    s.open = false;
    if (!s.dirty) return undefined;
    s.dirty = false;
    s.emittedOut = s.out;
    countFinding(stats, 'final');
    return build(key, s);
  });
  const emit = episodeEmitter(episodes, stats, build);

  /** End the current window of `s`: close its finding, or fold it into the baseline. */
  const endWindow = (key: string, s: ExfilState, out: Finding[]): Finding[] => {
    if (s.open) out = episodes.closeKey(key, out);
    else if (s.emittedOut === 0 && s.out > 0) {
      if (s.baseline === NO_BASELINE) s.baseline = newEwma();
      ewmaUpdate(s.baseline, s.out, o.alpha);
    }
    return out;
  };

  const startWindow = (s: ExfilState, ws: number, t: number): void => {
    s.winStart = ws;
    s.end = ws + W;
    s.out = 0;
    s.in = 0;
    s.events = 0;
    s.first = t;
    s.last = t;
    s.untimed = 0;
    s.dst0 = undefined;
    s.dst0Out = 0;
    s.dsts?.clear();
    s.otherOut = 0;
    s.threshold = ewmaThreshold(s.baseline, o.minBytes, o.sigmas, o.learnWindows);
    s.emittedOut = 0;
    s.dirty = false;
    s.refMeta = undefined;
    s.hasRef = false;
  };

  const follow = deps.gate === undefined ? undefined : new GateFollower(deps.gate);
  const observe = (flow: FlowRecord): Finding[] => {
    stats.flows++;
    const t = flow.end ?? eventTime(flow);
    if (!Number.isFinite(t)) return NONE;
    let out = NONE;
    if (t > highWater) {
      highWater = t;
      out = episodes.advance(t, out);
    }
    if (follow !== undefined) {
      // The scan detectors' gate (gate.ts GateFollower): a source seen once with less than minBytes
      // out (it can raise nothing alone: every threshold is at least minBytes) costs no state here;
      // its record counts right before the source's next one.
      if (!follow.admit(flow, (flow.bytesOrig ?? 0) >= o.minBytes)) return out;
      const b = follow.before;
      if (b !== undefined) {
        const tb = b.end ?? eventTime(b);
        if (Number.isFinite(tb)) out = count(b, tb, out);
      }
    }
    return count(flow, t, out);
  };

  /** Count the bytes of `flow` (at `t`: its end, else its event time) for its source. */
  const count = (flow: FlowRecord, t: number, out: Finding[]): Finding[] => {
    if (flow.bytesOrig === undefined && flow.bytesReply === undefined) return out;
    if (!leavesCluster(flow)) return out;
    // Bytes since this connection's previous counters (see module comment).
    const co = flow.bytesOrig ?? 0;
    const ci = flow.bytesReply ?? 0;
    let dOut = co;
    let dIn = ci;
    // A DESTROY with no earlier counters remembered (the usual case: conntrack reports counters
    // only in DESTROY) needs no identity at all.
    if (flow.event !== 'log' && !(flow.event === 'destroy' && conns.size === 0)) {
      const id = connectionIdentity(flow);
      const prev = conns.get(id);
      if (prev !== undefined) {
        dOut = Math.max(0, co - prev.o);
        dIn = Math.max(0, ci - prev.i);
      }
      if (flow.event === 'destroy') {
        if (prev !== undefined) conns.delete(id);
      } else if (prev !== undefined) {
        prev.o = Math.max(prev.o, co);
        prev.i = Math.max(prev.i, ci);
      } else if (conns.set(id, { o: co, i: ci }) !== undefined) stats.evictedConnections++;
    }
    if (dOut === 0 && dIn === 0) return out;
    stats.attempts++;
    const key = flow.srcAddr;
    const ws = Math.floor(t / W) * W;
    let s = states.touch(key);
    if (s === undefined) {
      s = {
        id: '',
        end: 0,
        winStart: -Infinity,
        out: 0,
        in: 0,
        events: 0,
        first: t,
        last: t,
        untimed: 0,
        dst0: undefined,
        dst0Out: 0,
        dsts: undefined,
        otherOut: 0,
        threshold: 0,
        baseline: NO_BASELINE,
        emittedOut: 0,
        dirty: false,
        open: false,
        refMeta: undefined,
        hasRef: false,
      };
      startWindow(s, ws, t);
      const ev = states.add(detach(key), s);
      if (ev !== undefined) {
        stats.evictedKeys++;
        if (ev.value.open) out = episodes.closeKey(ev.key, out);
      }
    } else if (ws > s.winStart) {
      out = endWindow(key, s, out);
      if (s.baseline.n >= o.learnWindows) states.promote(key);
      startWindow(s, ws, t);
    } else if (ws < s.winStart) {
      stats.lateFlows++;
      return out;
    }
    s.out += dOut;
    s.in += dIn;
    s.events++;
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    if (!hasOwnTime(flow)) s.untimed++;
    if (!s.hasRef) {
      s.hasRef = true;
      s.refMeta = flow.srcMeta;
    }
    if (dOut > 0) addDestination(s, flow.dstAddr, dOut);
    if (s.emittedOut === 0) {
      const total = s.out + s.in;
      if (s.out >= s.threshold && (s.out - s.in) / total >= o.minPcr) {
        s.id = findingId(EXFIL_ID, key, s.winStart);
        s.emittedOut = s.out;
        s.open = true;
        states.promote(key);
        out = emit.raise(key, s, out);
      }
    } else if (s.open) {
      if (s.out >= 2 * s.emittedOut) {
        s.emittedOut = s.out;
        out = emit.update(key, s, out);
      } else s.dirty = true;
    }
    return out;
  };

  return episodeDetector(EXFIL_ID, observe, episodes, stats, () => ({ keys: states.size }), deps.metrics);
}

/** Bytes in SI units for summaries: `950 B`, `21.2 kB`, `30.1 MB`, `1.20 GB`. */
export function fmtBytes(n: number): string {
  const v = Math.round(n);
  if (v < 1000) return `${v} B`;
  if (v < 1e6) return `${(v / 1e3).toFixed(1)} kB`;
  if (v < 1e9) return `${(v / 1e6).toFixed(1)} MB`;
  return `${(v / 1e9).toFixed(2)} GB`;
}
