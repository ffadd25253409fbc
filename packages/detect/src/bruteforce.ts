/**
 * Brute force against authentication services (`bruteforce.auth`, MITRE ATT&CK T1110.001 Password
 * Guessing): many failed-looking connections from one source to one authentication service
 * (destination address and TCP port) within a window.
 *
 * Key: (source, destination, port). A finding then names one victim service exactly, as fail2ban
 * does (it runs on the target and counts per source); monitoring that touches a port on many hosts
 * does not add up across the fleet. One source trying one port on many hosts (password spraying
 * across a fleet) is `hostsweep.horizontal`'s (16 hosts in 60 s).
 *
 * What counts as a failure (a flow record cannot see the login's outcome; it sees how the
 * connection ended):
 * - `refused`: a connection that was never established: conntrack [UNREPLIED], or not [ASSURED]
 *   and closed (`CLOSE`, `SYN_SENT`, `SYN_RECV` at DESTROY): a reset or no answer.
 * - `short`: an established connection that closed with at most `maxPackets` packets from the
 *   client (SSHCure, Hellemons et al., "SSHCure: a flow-based SSH intrusion detection system",
 *   AIMS 2012: brute-force flows carry 11 to 51 packets per flow) and at most `maxClientBytes`
 *   bytes from the client (4000; floe's choice, measured on real captures between network
 *   namespaces: hydra's failed-password connections to OpenSSH sent 1.8–2.5 kB, OpenSSH key logins
 *   running a command 4.9–6.8 kB, test/e2e/captures). Needs the counters (nf_conntrack_acct=1);
 *   without them an established connection is not judged.
 * - `logged`: a kernel LOG line (`log` event) to the port: a log shows the attempt, not its outcome,
 *   so every logged attempt counts (as iptables' `recent` rate limit on new SSH connections does).
 * When the connection's NEW was seen (a `conntrack -E` stream), it is judged as soon as it starts
 * closing, at its first UPDATE to FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT or CLOSE: `refused`
 * when not [ASSURED] (a reset before the handshake completed), and, when `maxDurationMs` is set
 * (default 0: off), `short` when it closes at most that long after its NEW. The close rule is off
 * by default because a close says nothing about the bytes: an hour of real benign traffic
 * (test/e2e/captures/benign-hour.log) had 121 OpenSSH key logins closing within 30 s, which it
 * counted as failures. Other connections are judged on their `destroy` event by the counters above (conntrack
 * destroys a closed TCP connection when TIME_WAIT ends, 120 s after the close; a SYN never
 * answered is destroyed when SYN_SENT times out), on `snapshot` lines in a closed state
 * (`TIME_WAIT`, `CLOSE`) and on `log` lines. Each connection counts once (by source port within
 * the window); the 16 newest connections in flight per key are remembered for the close rule.
 * A successful short login (`ssh host cmd`) looks like a short connection too: only the count
 * separates a few logins from guessing.
 *
 * Defaults: 10 failures in 10 min per (source, destination, port): fail2ban's sshd jail window
 * (`findtime = 10m`) at Zeek's rate (protocols/ssh/detect-bruteforcing.zeek:
 * `password_guesses_limit = 30` per `guessing_timeout = 30 mins`, one guess a minute). Zeek, like
 * floe, infers failures from the connection, not from the server's log; fail2ban's `maxretry = 5`
 * counts failed passwords sshd logged, and one connection may carry several (OpenSSH's
 * MaxAuthTries 6; hydra uses them), so 10 connections is at least 10 guesses. Sliding window: the
 * last `minFailures` failures of a key are kept (times and source ports), and the finding is raised
 * when they lie less than `windowMs` apart.
 */
import type { Finding, FlowRecord, Severity } from '@floe/flow';
import { eventTime, hasOwnTime } from './attempt.js';
import { intAtLeast, portList, severityOf } from './check.js';
import { entityOf } from './entity.js';
import { DEFAULT_PRODUCED_BY, scanScore, timingAndThreshold } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { checkLateness, defaultDetectorLimits, type DetectorLimits } from './options.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';
import { type RuleState, RuleKeys } from './rule.js';
import { GateFollower } from './gate.js';

/** Detector id of the brute-force detector. */
export const BRUTEFORCE_ID = 'bruteforce.auth';

/** MITRE ATT&CK "Brute Force: Password Guessing" (https://attack.mitre.org/techniques/T1110/001/). */
export const MITRE_PASSWORD_GUESSING = 'T1110.001';

/**
 * Authentication services watched by default (TCP): ftp 21, ssh 22, telnet 23, smtp submission 587,
 * pop3 110, imap 143, ldap 389, smb 445, ldaps 636, imaps 993, pop3s 995, mssql 1433, oracle 1521,
 * etcd 2379, mysql 3306, rdp 3389, postgresql 5432, vnc 5900, winrm 5985/5986, kubernetes API 6443,
 * mongodb 27017 (IANA service names; the ports hydra and CrowdSec's hub scenarios attack).
 */
export const DEFAULT_AUTH_PORTS: readonly number[] = Object.freeze([
  21, 22, 23, 110, 143, 389, 445, 587, 636, 993, 995, 1433, 1521, 2379, 3306, 3389, 5432, 5900, 5985, 5986, 6443, 27017,
]);

const SERVICE: Record<number, string> = {
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  110: 'pop3',
  143: 'imap',
  389: 'ldap',
  445: 'smb',
  587: 'submission',
  636: 'ldaps',
  993: 'imaps',
  995: 'pop3s',
  1433: 'mssql',
  1521: 'oracle',
  2379: 'etcd',
  3306: 'mysql',
  3389: 'rdp',
  5432: 'postgresql',
  5900: 'vnc',
  5985: 'winrm',
  5986: 'winrm',
  6443: 'kubernetes-api',
  27017: 'mongodb',
};

/** Thresholds of `bruteforce.auth` (policy `detectors.bruteforce`). */
export interface BruteForceOptions {
  /** Sliding window, ms of event time (default 600000: fail2ban's findtime 10m). */
  windowMs: number;
  /** Failed or short connections of one (source, destination, port) within the window that raise a finding (default 10). */
  minFailures: number;
  /** TCP ports of authentication services (default {@link DEFAULT_AUTH_PORTS}). */
  ports: number[];
  /** An established connection with at most this many client packets counts as short (default 51: SSHCure's brute-force flows). */
  maxPackets: number;
  /** An established connection that sent more than this many bytes from the client is a session, not a failure (default 4000; see the module comment). */
  maxClientBytes: number;
  /**
   * When above 0: a connection whose NEW was seen and that starts closing (UPDATE to FIN_WAIT,
   * CLOSE_WAIT, LAST_ACK, TIME_WAIT or CLOSE) at most this long (ms) after it counts as short then,
   * without waiting for its DESTROY and its counters (default 0: off; faster, but it counts short
   * successful logins too).
   */
  maxDurationMs: number;
  /** Severity (default 'high': the source is blocked by the responder's default minSeverity). */
  severity: Severity;
  /** Re-emit the finding (same id) each time its failure count doubles (default true in the policy). */
  updateOnDouble?: boolean;
}

/** Defaults of {@link BruteForceOptions} (sources in the module comment). */
export function defaultBruteForceOptions(): BruteForceOptions {
  return { windowMs: 600_000, minFailures: 10, ports: [...DEFAULT_AUTH_PORTS], maxPackets: 51, maxClientBytes: 4000, maxDurationMs: 0, severity: 'high', updateOnDouble: true };
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkBruteForceOptions(o: BruteForceOptions, field = 'bruteforce'): Readonly<BruteForceOptions> {
  return Object.freeze({
    windowMs: intAtLeast(`${field}.windowMs`, o.windowMs, 1),
    minFailures: intAtLeast(`${field}.minFailures`, o.minFailures, 2),
    ports: portList(`${field}.ports`, o.ports),
    maxPackets: intAtLeast(`${field}.maxPackets`, o.maxPackets, 1),
    maxClientBytes: intAtLeast(`${field}.maxClientBytes`, o.maxClientBytes ?? 4000, 1),
    maxDurationMs: intAtLeast(`${field}.maxDurationMs`, o.maxDurationMs, 0),
    severity: severityOf(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** How a counted connection failed. */
const REFUSED = 1;
const SHORT = 2;
const LOGGED = 3;
const CLASS_NAME = ['', 'refused', 'short', 'logged'] as const;

/** TCP states of a connection that never completed its handshake, or was reset. */
const NOT_ESTABLISHED = new Set(['SYN_SENT', 'SYN_RECV', 'CLOSE', 'SYN_SENT2']);
/** States of a connection that has ended (a `conntrack -L` line). */
const CLOSED = new Set(['TIME_WAIT', 'CLOSE']);

/** The failure class of a DESTROY, closed `-L` line or LOG record to an auth port by its counters and state (1 refused, 2 short, 3 logged), or 0 (other events: the close-UPDATE rule is in the detector; see module comment). */
export function failureClass(flow: FlowRecord, maxPackets: number, maxClientBytes = Number.POSITIVE_INFINITY): number {
  switch (flow.event) {
    case 'log':
      return LOGGED;
    case 'snapshot':
      if (flow.state === undefined || !CLOSED.has(flow.state)) return 0;
      break;
    case 'destroy':
      break;
    default:
      return 0;
  }
  if (flow.unreplied === true) return REFUSED;
  if (flow.assured !== true && flow.state !== undefined && NOT_ESTABLISHED.has(flow.state)) return REFUSED;
  if (flow.packetsOrig === undefined) return 0;
  return flow.packetsOrig <= maxPackets && (flow.bytesOrig === undefined || flow.bytesOrig <= maxClientBytes) ? SHORT : 0;
}

/**
 * Per-key state: the last `minFailures` failures (ring: time, source port, tag), and the counts of
 * the open finding. A tag packs the failure class (bits 0-1), the verdict (bits 2-3: 0 none,
 * 1 accept, 2 drop) and whether the record had no time of its own (bit 4).
 */
interface BruteState extends RuleState {
  times: number[];
  ports: number[];
  classes: number[];
  /** Next ring slot to overwrite once full. */
  head: number;
  /** Newest failure time (ms). */
  newest: number;
  /** Counts of the open finding (from its first failure). */
  failures: number;
  byClass: [number, number, number, number];
  untimed: number;
  verdicts: { accept: number; drop: number; none: number };
  /** Failure count at the last emission. */
  emitted: number;
  dstAddr: string;
  dstPort: number;
  /** Connections in flight (NEW seen, not yet closing): source ports and NEW times, a ring of {@link PENDING}. */
  pendPorts: number[];
  pendTimes: number[];
  pendHead: number;
  /** True once the key had a NEW: its connections are judged at their close, so a DESTROY counts only when unreplied or still in flight. */
  sawNew: boolean;
}

/** Connections in flight remembered per key. */
const PENDING = 16;

/** TCP states of a connection that is closing. */
const CLOSING = new Set(['FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE']);

/**
 * Shared, never written placeholders of a key's arrays and counts until it needs its own: a key
 * seen once (most keys) costs no arrays. The arrays are replaced before the first write; the counts
 * are replaced when a finding is raised.
 */
const NO_NUMBERS: number[] = Object.freeze([]) as unknown as number[];
const NO_CLASSES: [number, number, number, number] = Object.freeze([0, 0, 0, 0]) as unknown as [number, number, number, number];
const NO_VERDICTS = Object.freeze({ accept: 0, drop: 0, none: 0 }) as { accept: number; drop: number; none: number };

function newState(flow: FlowRecord): BruteState {
  return {
    episode: undefined,
    times: NO_NUMBERS,
    ports: NO_NUMBERS,
    classes: NO_NUMBERS,
    head: 0,
    newest: -Infinity,
    failures: 0,
    byClass: NO_CLASSES,
    untimed: 0,
    verdicts: NO_VERDICTS,
    emitted: 0,
    dstAddr: flow.dstAddr,
    dstPort: flow.dstPort as number,
    pendPorts: NO_NUMBERS,
    pendTimes: NO_NUMBERS,
    pendHead: 0,
    sawNew: false,
  };
}

function resetCounts(st: BruteState): void {
  st.times = NO_NUMBERS;
  st.ports = NO_NUMBERS;
  st.classes = NO_NUMBERS;
  st.head = 0;
  st.failures = 0;
  st.byClass = NO_CLASSES;
  st.untimed = 0;
  st.verdicts = NO_VERDICTS;
  st.emitted = 0;
}

/**
 * Create the brute-force detector (`bruteforce.auth`). Memory: at most `limits.maxKeys` keys, each
 * holding at most `minFailures` failure times and 16 connections in flight (about 800 bytes of heap a
 * key seen once, key and addresses included, bench/rules.bench.ts); keys with two failures or more are protected from
 * eviction by one-shot keys (BoundedKeys promote); evictions are counted (`floe_detect_evicted_keys_total`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createBruteForceDetector(options: BruteForceOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkBruteForceOptions(options);
  const limits: DetectorLimits = { ...defaultDetectorLimits(), ...(deps.limits ?? {}) };
  const maxKeys = intAtLeast('limits.maxKeys', limits.maxKeys, 1);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const portSet = new Set(o.ports);
  const W = o.windowMs;
  const N = o.minFailures;

  const finding = (key: string, st: BruteState): Finding => {
    const ep = st.episode!;
    const ref = ep.ref;
    const timed = st.untimed === 0;
    const service = SERVICE[st.dstPort] ?? `port ${st.dstPort}`;
    const sample: Array<{ at: number; dst: string; dstPort: number; protocol: number; state: string }> = [];
    const order = st.times.map((_, i) => i).sort((a, b) => st.times[a] - st.times[b]);
    for (const i of order.slice(0, 5)) sample.push({ at: st.times[i], dst: st.dstAddr, dstPort: st.dstPort, protocol: 6, state: CLASS_NAME[st.classes[i] & 3] });
    return {
      id: ep.id,
      schema: 1,
      firstSeen: ep.first,
      lastSeen: ep.last,
      detector: BRUTEFORCE_ID,
      kind: 'detector',
      severity: o.severity,
      score: scanScore(st.failures, N, timed ? ep.last - ep.first : W, W),
      entity: entityOf(ref),
      peers: [st.dstAddr],
      summary: `${ref.srcAddr} made ${st.failures} failed or short connections to ${service} on ${st.dstAddr}:${st.dstPort}${timingAndThreshold(ep.first, ep.last, timed, N, W)}`,
      evidence: {
        flows: st.failures,
        failures: st.failures,
        refused: st.byClass[REFUSED],
        short: st.byClass[SHORT],
        logged: st.byClass[LOGGED],
        verdicts: { ...st.verdicts },
        service,
        dstPort: st.dstPort,
        ports: [st.dstPort],
        sample,
        windowMs: W,
        threshold: N,
        maxPackets: o.maxPackets,
        entityRole: 'source',
        key,
        timesFromRecords: timed,
      },
      mitre: MITRE_PASSWORD_GUESSING,
      producedBy,
    };
  };

  const keys = new RuleKeys<BruteState>({ detectorId: BRUTEFORCE_ID, quietMs: W, staleMs: W, lastActivity: (s) => s.newest, finding }, maxKeys, checkLateness(deps.lateness));

  const follow = deps.gate === undefined ? undefined : new GateFollower(deps.gate);
  const observe = (flow: FlowRecord): Finding[] => {
    const t = eventTime(flow);
    let out = keys.tick(t);
    if (follow !== undefined) {
      // The scan detectors' gate (gate.ts GateFollower): one failure raises nothing (minFailures >=
      // 2), so a source's first record is judged right before its next one (a held NEW before its
      // DESTROY): each source's records in their own order.
      if (!follow.admit(flow, false)) return out;
      const b = follow.before;
      if (b !== undefined) out = judge(b, eventTime(b), out);
    }
    return judge(flow, t, out);
  };

  /** Judge `flow` at `t`: a failure of its key, a connection in flight, or nothing. */
  const judge = (flow: FlowRecord, t: number, out: Finding[]): Finding[] => {
    if (flow.protocol !== 6 || flow.dstPort === undefined || !portSet.has(flow.dstPort) || !Number.isFinite(t)) return out;
    const ev = flow.event;
    const sp = flow.srcPort ?? -1;
    let cls = 0;
    if (ev === 'update') {
      if (flow.state === undefined || !CLOSING.has(flow.state)) return out;
    } else if (ev !== 'new') {
      cls = failureClass(flow, o.maxPackets, o.maxClientBytes);
      if (cls === 0 && ev !== 'destroy') return out;
    }
    const key = `${flow.srcAddr}|${flow.dstAddr}|${flow.dstPort}`;
    let st = keys.touch(key);
    if (st === undefined) {
      // An UPDATE of a connection whose NEW this key never saw, or a DESTROY judged not failed: nothing to keep.
      if (ev === 'update' || (cls === 0 && ev !== 'new')) return out;
      st = newState(flow);
      out = keys.insert(key, st, out);
    }
    if (ev === 'new') {
      st.sawNew = true;
      if (st.pendPorts === NO_NUMBERS) {
        st.pendPorts = [sp];
        st.pendTimes = [t];
      } else if (st.pendPorts.length < PENDING) {
        st.pendPorts.push(sp);
        st.pendTimes.push(t);
      } else {
        st.pendPorts[st.pendHead] = sp;
        st.pendTimes[st.pendHead] = t;
        st.pendHead = (st.pendHead + 1) % PENDING;
      }
      if (t > st.newest) st.newest = t;
      return out;
    }
    if (ev === 'update') {
      const i = st.pendPorts.indexOf(sp);
      if (i < 0) return out;
      const started = st.pendTimes[i];
      if (flow.assured !== true) cls = REFUSED;
      else if (o.maxDurationMs > 0 && t - started <= o.maxDurationMs) cls = SHORT;
      if (cls === 0) return out; // not judged at its close: its DESTROY's counters decide
      st.pendPorts[i] = -2; // judged now; its later UPDATEs and DESTROY do not count again
    } else if (ev === 'destroy' && st.sawNew && flow.unreplied !== true) {
      // Judged at its close already, unless its close was missed (still in flight: more than
      // PENDING connections at once); an unreplied SYN has no close and is judged here.
      // A connection whose slot was reused (more than PENDING in flight) is judged here too; the
      // source-port check below keeps one connection from counting twice.
      const i = st.pendPorts.indexOf(sp);
      if (i >= 0) st.pendPorts[i] = -2;
    }
    if (cls === 0) return out;
    if (st.episode !== undefined && t - st.episode.last >= W) {
      // Quiet for a whole window: the finding is over; a new one needs the threshold again.
      out = keys.close(key, st, out);
      resetCounts(st);
    }
    // One connection counts once (its close UPDATE and its DESTROY, a connection seen in several dumps, a log line and its DESTROY).
    for (let i = 0; i < st.ports.length; i++) if (st.ports[i] === sp && Math.abs(st.times[i] - t) < W) return out;
    keys.attempt();
    const tag = cls | ((flow.verdict === 'accept' ? 1 : flow.verdict === 'drop' ? 2 : 0) << 2) | (hasOwnTime(flow) ? 0 : 16);
    if (st.times === NO_NUMBERS) {
      // One-element literals for the first failure: most keys never get a second ([] grows to 16 slots at its first push).
      st.times = [t];
      st.ports = [sp];
      st.classes = [tag];
    } else if (st.times.length < N) {
      st.times.push(t);
      st.ports.push(sp);
      st.classes.push(tag);
    } else {
      st.times[st.head] = t;
      st.ports[st.head] = sp;
      st.classes[st.head] = tag;
      st.head = (st.head + 1) % N;
    }
    if (t > st.newest) st.newest = t;
    const ep = st.episode;
    if (ep !== undefined) {
      st.failures++;
      count(st, tag);
      if (t < ep.first) ep.first = t;
      if (t > ep.last) ep.last = t;
      ep.dirty = true;
      if (o.updateOnDouble && st.failures >= 2 * st.emitted) {
        st.emitted = st.failures;
        out = keys.update(key, st, out);
      }
      return out;
    }
    if (st.times.length === 2) keys.promote(key);
    if (st.times.length < N) return out;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of st.times) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (hi - lo >= W) return out;
    // Raised: the ring's N failures are the finding's first ones.
    st.failures = N;
    st.byClass = [0, 0, 0, 0];
    st.untimed = 0;
    st.verdicts = { accept: 0, drop: 0, none: 0 };
    for (const c of st.classes) count(st, c);
    st.emitted = N;
    return keys.raise(key, st, lo, hi, flow, out);
  };

  const d: WindowDetector = {
    id: BRUTEFORCE_ID,
    observe,
    expire: (nowMs) => keys.expire(nowMs),
    flush: () => keys.flush(),
    stats: () => keys.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}

/** Add one failure's tag (class, verdict, timing) to the open finding's counts. */
function count(st: BruteState, tag: number): void {
  st.byClass[tag & 3]++;
  if (tag & 16) st.untimed++;
  const v = (tag >> 2) & 3;
  if (v === 1) st.verdicts.accept++;
  else if (v === 2) st.verdicts.drop++;
  else st.verdicts.none++;
}
