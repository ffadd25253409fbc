/**
 * @floe/detect: rule detectors over the flow stream, in event time (see README.md).
 * `createDetectors(opts, deps)` gives the scan detectors (vertical port scan, horizontal host sweep,
 * random scan), the brute-force, SYN-flood and beacon detectors and, when their policy sections are
 * on, the exfiltration, DNS and lateral-movement detectors.
 */
import type { Detector } from './detector.js';
import type { DetectorOptions } from './options.js';
import { createPortScanDetector, type DetectorDeps, type WindowDetector } from './portscan.js';
import { createHostSweepDetector } from './hostsweep.js';
import { createBruteForceDetector } from './bruteforce.js';
import { createSynFloodDetector } from './synflood.js';
import { createBeaconDetector } from './beacon.js';
import { createExfilDetector } from './exfil.js';
import { createDnsResolverDetector } from './dns-resolver.js';
import { createDnsVolumeDetector } from './dns-volume.js';
import { createLateralDetector, type ClusterDeps } from './lateral.js';
import { createRandomScanDetector } from './randomscan.js';
import { checkLimits, defaultDetectorOptions, type RandomScanOptions } from './options.js';
import { FirstSightGate } from './gate.js';
import { CONNECTION_MEMORY_MS, SeenConnections } from './attempt.js';

export type { Detector } from './detector.js';
export {
  defaultDetectorOptions,
  defaultDetectorLimits,
  checkPortScanOptions,
  checkHostSweepOptions,
  checkRandomScanOptions,
  DEFAULT_LATENESS_MS,
} from './options.js';
export type { DetectorOptions, PortScanOptions, HostSweepOptions, RandomScanOptions, DetectorLimits } from './options.js';
export { createPortScanDetector, PORTSCAN_ID } from './portscan.js';
export type { DetectorDeps, WindowDetector } from './portscan.js';
export { createHostSweepDetector, HOSTSWEEP_ID } from './hostsweep.js';
export { createRandomScanDetector, RANDOMSCAN_ID } from './randomscan.js';
export type { WindowStats, SampleFlow } from './window.js';
export { SWEEP_STEP_MS, PROTECTED_SHARE } from './window.js';
export { eventTime, hasOwnTime, isAttemptEvent, connectionIdentity, CONNECTION_MEMORY_MS, SeenConnections } from './attempt.js';
export { findingId, scanScore, spanPhrase, timingAndThreshold, MITRE_NETWORK_SERVICE_DISCOVERY } from './finding.js';
export { trackDetectorMetrics } from './metrics.js';
export type { StatsSource } from './metrics.js';
export { DetectError, DETECT_ERROR_CODES } from './errors.js';
export { BoundedKeys } from './keyed.js';
export {
  createBruteForceDetector,
  defaultBruteForceOptions,
  checkBruteForceOptions,
  failureClass,
  BRUTEFORCE_ID,
  DEFAULT_AUTH_PORTS,
  MITRE_PASSWORD_GUESSING,
} from './bruteforce.js';
export type { BruteForceOptions } from './bruteforce.js';
export { createSynFloodDetector, defaultSynFloodOptions, checkSynFloodOptions, synFloodSignal, SYNFLOOD_ID, MITRE_OS_EXHAUSTION_FLOOD } from './synflood.js';
export type { SynFloodOptions } from './synflood.js';
export { createBeaconDetector, defaultBeaconOptions, checkBeaconOptions, intervalStats, BEACON_ID, MITRE_APPLICATION_LAYER_PROTOCOL } from './beacon.js';
export type { BeaconOptions, IntervalStats } from './beacon.js';
export { FirstSightGate } from './gate.js';
export type { Evicted, Segment } from './keyed.js';
export type { DetectErrorCode } from './errors.js';
export { createExfilDetector, EXFIL_ID, MITRE_EXFILTRATION, NON_PUBLIC, leavesCluster, fmtBytes } from './exfil.js';
export { createDnsResolverDetector, DNS_RESOLVER_ID, MITRE_DNS, RESOLVER_EPISODE_MS, isDnsFlow } from './dns-resolver.js';
export { createDnsVolumeDetector, DNS_VOLUME_ID, MITRE_DGA } from './dns-volume.js';
export { createLateralDetector, LATERAL_ID, MITRE_REMOTE_SERVICES, LATERAL_PEER_CAPACITY, trustDomain } from './lateral.js';
export type { ClusterDeps } from './lateral.js';
export { RotatingBloom, BLOOM_DEFAULT_FP } from './bloom.js';
export { newEwma, ewmaUpdate, ewmaThreshold } from './baseline.js';
export type { Ewma } from './baseline.js';
export {
  defaultExfilOptions,
  defaultDnsOptions,
  defaultLateralOptions,
  checkExfilOptions,
  checkDnsOptions,
  checkLateralOptions,
} from './rule-options.js';
export type { ExfilOptions, DnsOptions, LateralOptions } from './rule-options.js';

/**
 * Create every rule detector, in this order: `portscan.vertical`, `hostsweep.horizontal`,
 * `scan.random` (the three sharing one connection memory and one first-sighting gate), then
 * `bruteforce.auth`, `dos.synflood`, `beacon.periodic` (when their section is present — the policy
 * always fills it; `defaultDetectorOptions()` has it — and does not say `enabled: false`; options
 * written before they existed, `{ portscan, hostsweep }`, keep exactly the scan detectors), then,
 * when their sections are present and on: `exfil.volume` (`exfil.enabled`), `dns.resolver`
 * (`dns.resolvers` not empty), `dns.volume` (`dns.volume`), `lateral.newpeer` (`lateral.enabled`).
 * They expect flows classified by the compiled policy (direction, zones, namespaces), as the
 * pipeline feeds them; `deps.namespaceAllowed` (the policy's `namespaceAllowed`) adds the namespace
 * trust to lateral-movement evidence. With `deps.metrics`, their counters are exported there as
 * `floe_detect_*` (metrics.ts).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createDetectors(opts: DetectorOptions, deps: DetectorDeps & ClusterDeps = {}): Array<Detector & WindowDetector> {
  // One connection memory for the scan detectors: each record's identity is built and looked up once;
  // and one first-sighting gate: a source's first attempt is held once for all of them (gate.ts).
  const scan: DetectorDeps = {
    ...deps,
    connections: deps.connections ?? new SeenConnections(CONNECTION_MEMORY_MS, 1),
    gate: deps.gate ?? new FirstSightGate(checkLimits(deps.limits, 2).maxKeys),
  };
  const out: Array<Detector & WindowDetector> = [
    createPortScanDetector(opts.portscan, scan),
    createHostSweepDetector(opts.hostsweep, scan),
    createRandomScanDetector(opts.randomScan ?? (defaultDetectorOptions().randomScan as RandomScanOptions), scan),
  ];

  // Brute force (kernel LOG lines), beacon, exfiltration and lateral movement follow the scan
  // detectors' gate (gate.answerFor): a source seen once costs them nothing, its held record counts
  // on release (exfil: or before its connection's next event).
  const follow: DetectorDeps & ClusterDeps = { ...deps, gate: scan.gate };
  if (opts.bruteforce !== undefined && opts.bruteforce.enabled !== false) out.push(createBruteForceDetector(opts.bruteforce, follow));
  if (opts.synflood !== undefined && opts.synflood.enabled !== false) out.push(createSynFloodDetector(opts.synflood, deps));
  if (opts.beacon !== undefined && opts.beacon.enabled !== false) out.push(createBeaconDetector(opts.beacon, follow));
  if (opts.exfil?.enabled) out.push(createExfilDetector(opts.exfil, follow));
  if (opts.dns !== undefined && opts.dns.resolvers.length > 0) out.push(createDnsResolverDetector(opts.dns, deps));
  if (opts.dns?.volume) out.push(createDnsVolumeDetector(opts.dns, deps));
  if (opts.lateral?.enabled) out.push(createLateralDetector(opts.lateral, follow));
  return out;
}
