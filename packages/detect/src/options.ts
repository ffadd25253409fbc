/**
 * Detector thresholds (the policy file's `detectors:` section has this shape) and the memory
 * limits of the windowed detectors, with their defaults in one place.
 */
import { SEVERITIES, type Severity } from '@floe/flow';
import { DetectError } from './errors.js';
import { defaultBruteForceOptions, type BruteForceOptions } from './bruteforce.js';
import { defaultSynFloodOptions, type SynFloodOptions } from './synflood.js';
import { defaultBeaconOptions, type BeaconOptions } from './beacon.js';
import { defaultDnsOptions, defaultExfilOptions, defaultLateralOptions, type DnsOptions, type ExfilOptions, type LateralOptions } from './rule-options.js';

/**
 * Default lateness (ms of event time): how long after a window ends a record may still arrive and
 * count in it before the record-driven sweep closes the window. Five seconds covers the
 * interleaving of several nodes' collectors (batching, clock skew) in one partition of the flows
 * topic. An offline analysis passes `Infinity` (its input may be in any order; flush closes).
 */
export const DEFAULT_LATENESS_MS = 5000;

/** Vertical port scan: one source probing many ports of one destination host. */
export interface PortScanOptions {
  /** Sliding window length in ms of event time (default 60000). */
  windowMs: number;
  /** Distinct destination ports of one (source, destination) within the window that raise a finding (default 20). */
  minPorts: number;
  /** Severity of the finding (default 'high'). */
  severity: Severity;
  /** Also emit an update of the same finding (same id) each time the distinct count doubles (default false). */
  updateOnDouble?: boolean;
}

/** Horizontal host sweep: one source probing one port (or ICMP type) on many hosts. */
export interface HostSweepOptions {
  /** Sliding window length in ms of event time (default 60000). */
  windowMs: number;
  /** Distinct destination hosts of one (source, protocol, port) within the window that raise a finding (default 16). */
  minHosts: number;
  /** Severity of the finding (default 'high'). */
  severity: Severity;
  /** Also emit an update of the same finding (same id) each time the distinct count doubles (default false). */
  updateOnDouble?: boolean;
}

/**
 * Random scan (masscan style): one source probing many distinct (destination address, port)
 * pairs, where no single host sees `portscan.minPorts` ports and no single port sees
 * `hostsweep.minHosts` hosts. Defaults from Zeek's bro-simple-scan (ncsa/bro-simple-scan
 * scripts/scan.zeek: `scan_threshold = 25` unique host+port attempts of a remote scanner, and its
 * `Random_Scan` notice when the attempts span more than 5 ports and more than 5 hosts) and Zeek's
 * base scan.zeek 5 min scan intervals (`addr_scan_interval`, `port_scan_interval`).
 */
export interface RandomScanOptions {
  /** Window length in ms of event time (default 300000: Zeek scan.zeek's 5 min). */
  windowMs: number;
  /** Distinct (destination address, protocol, port) pairs of one source within the window that raise a finding (default 25, bro-simple-scan `scan_threshold`). */
  minPairs: number;
  /** Distinct destination hosts among the pairs needed as well (default 6: bro-simple-scan calls 5 or fewer hosts a port scan). */
  minHosts: number;
  /** Distinct destination ports among the pairs needed as well (default 6: bro-simple-scan calls 5 or fewer ports an address scan). */
  minPorts: number;
  /** Severity of the finding (default 'high'). */
  severity: Severity;
  /** Also emit an update of the same finding (same id) each time the pair count doubles (default false). */
  updateOnDouble?: boolean;
}

/**
 * Thresholds of every rule detector, keyed like the policy file's `detectors:` section (the policy
 * fills every section). An optional section left out, or saying `enabled: false`, leaves its
 * detector out of `createDetectors`.
 */
export interface DetectorOptions {
  portscan: PortScanOptions;
  hostsweep: HostSweepOptions;
  /** `bruteforce.auth` (bruteforce.ts). */
  bruteforce?: BruteForceOptions & { enabled?: boolean };
  /** `dos.synflood` (synflood.ts). */
  synflood?: SynFloodOptions & { enabled?: boolean };
  /** `beacon.periodic` (beacon.ts). */
  beacon?: BeaconOptions & { enabled?: boolean };
  /** `exfil.volume` (rule-options.ts); absent: not created. */
  exfil?: ExfilOptions;
  /** `dns.resolver` (when `resolvers` is not empty) and `dns.volume` (when `volume`); absent: neither. */
  dns?: DnsOptions;
  /** `lateral.newpeer`; absent: not created. */
  lateral?: LateralOptions;
  /** `scan.random`; the defaults when absent. */
  randomScan?: RandomScanOptions;
}

/**
 * Memory limits of one windowed detector. Every limit is a count of entries, not bytes. Measured
 * (bench/memory.bench.ts, Node 20, heap after GC, 1M sources): about 790 bytes per key of one
 * detector with its connection identity; with `createDetectors`, 270 bytes per one-shot source
 * (held once by the shared gate) and 2,230 per source tracked by all three scan detectors (their
 * shared connection memory included); a key past `maxItemsPerKey` adds a 4 KiB sketch. The
 * defaults hold a million active sources in each scan detector (about 2.2 GB of heap at worst).
 */
export interface DetectorLimits {
  /** Keys (source/destination pairs, or source/protocol/port triples) tracked at once (and, with `createDetectors`, sources in the shared first-sighting gate); keys with one distinct item (probation) evicted first, least recently seen first; keys with two or more are protected (default 1000000). */
  maxKeys: number;
  /** Distinct items (ports or hosts) kept per key; must be at least the threshold. Beyond it, exact counts saturate (evidence `capped: true`) and `distinctEstimate` counts on approximately (HyperLogLog) (default 1024). */
  maxItemsPerKey: number;
  /** Connection identities remembered to count each connection once per window; scan detectors made by `createDetectors` share one memory of the largest of their limits (default 1000000). */
  maxConnections: number;
}

/**
 * Defaults: 60 s windows, 15 distinct ports (Zeek's scan.zeek port_scan_threshold), 16 distinct
 * hosts, severity high; brute force, SYN flood and beacon defaults with their sources in
 * bruteforce.ts, synflood.ts and beacon.ts; random scan: see {@link RandomScanOptions}. Tune per site in the policy file.
 */
export function defaultDetectorOptions(): DetectorOptions {
  return {
    portscan: { windowMs: 60_000, minPorts: 15, severity: 'high' },
    hostsweep: { windowMs: 60_000, minHosts: 16, severity: 'high' },
    randomScan: { windowMs: 300_000, minPairs: 25, minHosts: 6, minPorts: 6, severity: 'high' },
    bruteforce: { enabled: true, ...defaultBruteForceOptions() },
    synflood: { enabled: true, ...defaultSynFloodOptions() },
    beacon: { enabled: true, ...defaultBeaconOptions() },
    exfil: defaultExfilOptions(),
    dns: defaultDnsOptions(),
    lateral: defaultLateralOptions(),
  };
}

/** Default memory limits (see {@link DetectorLimits}). */
export function defaultDetectorLimits(): DetectorLimits {
  return { maxKeys: 1_000_000, maxItemsPerKey: 1024, maxConnections: 1_000_000 };
}

function positiveInt(field: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function severity(field: string, v: unknown): Severity {
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be one of ${SEVERITIES.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as Severity;
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkPortScanOptions(o: PortScanOptions, field = 'portscan'): PortScanOptions {
  return Object.freeze({
    windowMs: positiveInt(`${field}.windowMs`, o.windowMs),
    minPorts: positiveInt(`${field}.minPorts`, o.minPorts, 2),
    severity: severity(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkHostSweepOptions(o: HostSweepOptions, field = 'hostsweep'): HostSweepOptions {
  return Object.freeze({
    windowMs: positiveInt(`${field}.windowMs`, o.windowMs),
    minHosts: positiveInt(`${field}.minHosts`, o.minHosts, 2),
    severity: severity(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkRandomScanOptions(o: RandomScanOptions, field = 'randomScan'): RandomScanOptions {
  const minPairs = positiveInt(`${field}.minPairs`, o.minPairs, 2);
  const minHosts = positiveInt(`${field}.minHosts`, o.minHosts, 1);
  const minPorts = positiveInt(`${field}.minPorts`, o.minPorts, 1);
  if (minHosts > minPairs) throw new DetectError('FLOE_DETECT_BAD_OPTIONS', `${field}.minHosts`, `must be <= minPairs ${minPairs}, got ${minHosts}`);
  if (minPorts > minPairs) throw new DetectError('FLOE_DETECT_BAD_OPTIONS', `${field}.minPorts`, `must be <= minPairs ${minPairs}, got ${minPorts}`);
  return Object.freeze({
    windowMs: positiveInt(`${field}.windowMs`, o.windowMs),
    minPairs,
    minHosts,
    minPorts,
    severity: severity(`${field}.severity`, o.severity),
    updateOnDouble: o.updateOnDouble === true,
  });
}

/** Fill missing limits with defaults and check them against a threshold. @throws DetectError (FLOE_DETECT_BAD_OPTIONS). */
export function checkLimits(l: Partial<DetectorLimits> | undefined, threshold: number): DetectorLimits {
  const d = { ...defaultDetectorLimits(), ...(l ?? {}) };
  const out: DetectorLimits = {
    maxKeys: positiveInt('limits.maxKeys', d.maxKeys),
    maxItemsPerKey: positiveInt('limits.maxItemsPerKey', d.maxItemsPerKey),
    maxConnections: positiveInt('limits.maxConnections', d.maxConnections),
  };
  if (out.maxItemsPerKey < threshold) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', 'limits.maxItemsPerKey', `must be >= the threshold ${threshold}, got ${out.maxItemsPerKey}`);
  }
  return Object.freeze(out);
}

/**
 * Check a detector's lateness (ms of event time, see `DetectorDeps.lateness`): a number >= 0,
 * `Infinity` allowed; undefined gives the default (5000).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS, field `lateness`).
 */
export function checkLateness(v: number | undefined): number {
  if (v === undefined) return DEFAULT_LATENESS_MS;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new DetectError('FLOE_DETECT_BAD_OPTIONS', 'lateness', `must be a number of ms >= 0 (Infinity: never close on later records), got ${JSON.stringify(v)}`);
  }
  return v;
}
