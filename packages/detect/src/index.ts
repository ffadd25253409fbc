/**
 * @floe/detect: rule detectors over the flow stream, in event time (see README.md).
 * `createDetectors(opts)` gives the scan, brute-force, SYN-flood and beacon detectors.
 */
import type { Detector } from './detector.js';
import type { DetectorOptions } from './options.js';
import { createPortScanDetector, type DetectorDeps, type WindowDetector } from './portscan.js';
import { createHostSweepDetector } from './hostsweep.js';
import { createBruteForceDetector } from './bruteforce.js';
import { createSynFloodDetector } from './synflood.js';
import { createBeaconDetector } from './beacon.js';

export type { Detector } from './detector.js';
export {
  defaultDetectorOptions,
  defaultDetectorLimits,
  checkPortScanOptions,
  checkHostSweepOptions,
  DEFAULT_LATENESS_MS,
} from './options.js';
export type { DetectorOptions, PortScanOptions, HostSweepOptions, DetectorLimits } from './options.js';
export { createPortScanDetector, PORTSCAN_ID } from './portscan.js';
export type { DetectorDeps, WindowDetector } from './portscan.js';
export { createHostSweepDetector, HOSTSWEEP_ID } from './hostsweep.js';
export type { WindowStats, SampleFlow } from './window.js';
export { SWEEP_STEP_MS } from './window.js';
export { eventTime, hasOwnTime, isAttemptEvent, connectionIdentity, CONNECTION_MEMORY_MS } from './attempt.js';
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
export type { Evicted, Segment } from './keyed.js';
export type { DetectErrorCode } from './errors.js';

/**
 * Create every rule detector, in this order: `portscan.vertical`, `hostsweep.horizontal`,
 * `bruteforce.auth`, `dos.synflood`, `beacon.periodic`. The last three run when their section is
 * present (the policy always fills it; `defaultDetectorOptions()` has it) and does not say
 * `enabled: false`; options written before they existed (`{ portscan, hostsweep }`) keep exactly
 * the scan detectors. With `deps.metrics`, their counters are exported there as `floe_detect_*`
 * (metrics.ts).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createDetectors(opts: DetectorOptions, deps: DetectorDeps = {}): Array<Detector & WindowDetector> {
  const out = [createPortScanDetector(opts.portscan, deps), createHostSweepDetector(opts.hostsweep, deps)];
  if (opts.bruteforce !== undefined && opts.bruteforce.enabled !== false) out.push(createBruteForceDetector(opts.bruteforce, deps));
  if (opts.synflood !== undefined && opts.synflood.enabled !== false) out.push(createSynFloodDetector(opts.synflood, deps));
  if (opts.beacon !== undefined && opts.beacon.enabled !== false) out.push(createBeaconDetector(opts.beacon, deps));
  return out;
}
