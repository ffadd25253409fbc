/**
 * Thresholds of the exfiltration, DNS and lateral-movement detectors (the policy file's
 * `detectors.exfil`, `detectors.dns`, `detectors.lateral`), their defaults and the source of each
 * default, and their checks.
 */
import { SEVERITIES, type Severity } from '@floe/flow';
import { parseCidr } from '@floe/policy';
import { DetectError } from './errors.js';

/** `exfil.volume`: bytes a cluster source sends to destinations outside the cluster, far above its own baseline. */
export interface ExfilOptions {
  /** Off: the detector is not created (default true). */
  enabled: boolean;
  /**
   * Tumbling window of event time per source (ms, aligned to multiples of it since the epoch).
   * Default 300000 (5 min): the interval at which Cisco Secure Workload exports its PCR-based
   * network-anomaly ("data leak") events.
   */
  windowMs: number;
  /** Bytes out in one window below which nothing is raised, whatever the baseline. Default 50000000 (50 MB in 5 min, about 170 kB/s sustained): a floe choice. */
  minBytes: number;
  /** Standard deviations above the baseline mean (default 3: the Shewhart control limit). */
  sigmas: number;
  /** EWMA weight of the newest window, 0 < alpha <= 1. Default 0.1: within 0.05-0.25, the range Montgomery's "Introduction to Statistical Quality Control" (EWMA control charts) recommends. */
  alpha: number;
  /** Windows with egress a source needs before its baseline counts; until then `minBytes` alone decides (default 6: a half hour of 5-min windows; a floe choice). */
  learnWindows: number;
  /**
   * Producer-consumer ratio (out - in) / (out + in) of the window's egress bytes that it must reach
   * (-1..1). Default 0.4: "70:30 export", the boundary of the exporting roles in the PCR table of
   * Bullard and Gerth, "PCR - A New Flow Metric", FloCon 2014 (downloads are near -1).
   */
  minPcr: number;
  /** Severity (default high). */
  severity: Severity;
}

/** `dns.resolver` and `dns.volume`. */
export interface DnsOptions {
  /** Resolver prefixes the cluster may use (the cluster DNS service, node-local caches). Empty (default): `dns.resolver` is off, since nothing is named. */
  resolvers: readonly string[];
  /** Severity of `dns.resolver` (default medium). */
  resolverSeverity: Severity;
  /** Turns `dns.volume` on or off (default true). */
  volume: boolean;
  /** Tumbling window of event time per source for `dns.volume` (ms; default 60000). */
  windowMs: number;
  /**
   * DNS connections per window at or above which `dns.volume` is raised, baseline or not. Default
   * 600 (10 queries/s): a floe choice, twice the 5 queries/s per client of PowerDNS Defender's
   * tunneling limits (`maximum_qps_*`).
   */
  maxQueries: number;
  /** Queries per window below which the baseline test never raises. Default 100: the "more than 100 queries a minute from one host" rule of thumb of DNS-tunnelling hunting guides (a floe choice, not a standard). */
  minQueries: number;
  /** Standard deviations above the baseline mean (default 4: a floe choice, wider than exfil's 3 because DNS counts are bursty). */
  sigmas: number;
  /** EWMA weight of the newest window (default 0.1, as exfil). */
  alpha: number;
  /** Windows with DNS a source needs before its baseline counts (default 6; a floe choice). */
  learnWindows: number;
  /** Distinct resolvers one source asks in one window at or above which `dns.volume` is raised. Default 4: glibc's resolver uses at most 3 (`MAXNS` in resolv.h). */
  maxResolvers: number;
  /** Severity of `dns.volume` (default medium). */
  volumeSeverity: Severity;
}

/** `lateral.newpeer`: new internal peers across a namespace trust boundary. */
export interface LateralOptions {
  /** Off: the detector is not created (default true). */
  enabled: boolean;
  /** Learning period per source entity from its first flow (ms): peers it reaches then are known. Default 86400000 (one day, so daily jobs are learnt): a floe choice. */
  learnMs: number;
  /** A finding's window from its first new peer (ms; default 3600000: a floe choice). */
  windowMs: number;
  /** New peers in one window that raise the finding to `manySeverity` (default 10; a floe choice). */
  manyPeers: number;
  /** Severity of a finding with fewer than `manyPeers` new peers (default medium). */
  severity: Severity;
  /** Severity once `manyPeers` is reached (default high). */
  manySeverity: Severity;
}

/** Defaults of `detectors.exfil` (equal to packages/policy's schema defaults). */
export function defaultExfilOptions(): ExfilOptions {
  return { enabled: true, windowMs: 300_000, minBytes: 50_000_000, sigmas: 3, alpha: 0.1, learnWindows: 6, minPcr: 0.4, severity: 'high' };
}

/** Defaults of `detectors.dns`. */
export function defaultDnsOptions(): DnsOptions {
  return {
    resolvers: [],
    resolverSeverity: 'medium',
    volume: true,
    windowMs: 60_000,
    maxQueries: 600,
    minQueries: 100,
    sigmas: 4,
    alpha: 0.1,
    learnWindows: 6,
    maxResolvers: 4,
    volumeSeverity: 'medium',
  };
}

/** Defaults of `detectors.lateral`. */
export function defaultLateralOptions(): LateralOptions {
  return { enabled: true, learnMs: 86_400_000, windowMs: 3_600_000, manyPeers: 10, severity: 'medium', manySeverity: 'high' };
}

function bad(field: string, what: string, v: unknown): never {
  throw new DetectError('FLOE_DETECT_BAD_OPTIONS', field, `must be ${what}, got ${JSON.stringify(v)}`);
}
function int(field: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(field, `an integer >= ${min}`, v);
  return v;
}
function num(field: string, v: unknown, lo: number, hi: number, loOpen = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || (loOpen ? v <= lo : v < lo) || v > hi) bad(field, `a number within ${loOpen ? '(' : '['}${lo}, ${hi}]`, v);
  return v;
}
function sev(field: string, v: unknown): Severity {
  if (typeof v !== 'string' || !(SEVERITIES as readonly string[]).includes(v)) bad(field, `one of ${SEVERITIES.join(', ')}`, v);
  return v as Severity;
}
function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(field, 'true or false', v);
  return v;
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkExfilOptions(o: ExfilOptions, field = 'exfil'): Readonly<ExfilOptions> {
  return Object.freeze({
    enabled: bool(`${field}.enabled`, o.enabled),
    windowMs: int(`${field}.windowMs`, o.windowMs, 1),
    minBytes: int(`${field}.minBytes`, o.minBytes, 1),
    sigmas: num(`${field}.sigmas`, o.sigmas, 0, 1e6, true),
    alpha: num(`${field}.alpha`, o.alpha, 0, 1, true),
    learnWindows: int(`${field}.learnWindows`, o.learnWindows, 1),
    minPcr: num(`${field}.minPcr`, o.minPcr, -1, 1),
    severity: sev(`${field}.severity`, o.severity),
  });
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range or a resolver is not a CIDR. */
export function checkDnsOptions(o: DnsOptions, field = 'dns'): Readonly<DnsOptions> {
  if (!Array.isArray(o.resolvers)) bad(`${field}.resolvers`, 'a list of CIDRs', o.resolvers);
  o.resolvers.forEach((c, i) => {
    try {
      parseCidr(c);
    } catch {
      bad(`${field}.resolvers[${i}]`, 'an address or CIDR', c);
    }
  });
  return Object.freeze({
    resolvers: Object.freeze([...o.resolvers]),
    resolverSeverity: sev(`${field}.resolverSeverity`, o.resolverSeverity),
    volume: bool(`${field}.volume`, o.volume),
    windowMs: int(`${field}.windowMs`, o.windowMs, 1),
    maxQueries: int(`${field}.maxQueries`, o.maxQueries, 1),
    minQueries: int(`${field}.minQueries`, o.minQueries, 1),
    sigmas: num(`${field}.sigmas`, o.sigmas, 0, 1e6, true),
    alpha: num(`${field}.alpha`, o.alpha, 0, 1, true),
    learnWindows: int(`${field}.learnWindows`, o.learnWindows, 1),
    maxResolvers: int(`${field}.maxResolvers`, o.maxResolvers, 2),
    volumeSeverity: sev(`${field}.volumeSeverity`, o.volumeSeverity),
  });
}

/** @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when a field is out of range. */
export function checkLateralOptions(o: LateralOptions, field = 'lateral'): Readonly<LateralOptions> {
  return Object.freeze({
    enabled: bool(`${field}.enabled`, o.enabled),
    learnMs: int(`${field}.learnMs`, o.learnMs, 0),
    windowMs: int(`${field}.windowMs`, o.windowMs, 1),
    manyPeers: int(`${field}.manyPeers`, o.manyPeers, 2),
    severity: sev(`${field}.severity`, o.severity),
    manySeverity: sev(`${field}.manySeverity`, o.manySeverity),
  });
}
