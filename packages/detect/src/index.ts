/**
 * @floe/detect: rule detectors over the flow stream, in event time (see README.md).
 * `createDetectors(opts)` gives the vertical port-scan, horizontal host-sweep and random-scan detectors.
 */
import type { Detector } from './detector.js';
import type { DetectorOptions } from './options.js';
import { createPortScanDetector, type DetectorDeps, type WindowDetector } from './portscan.js';
import { createHostSweepDetector } from './hostsweep.js';
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
export { FirstSightGate } from './gate.js';
export type { Evicted, Segment } from './keyed.js';
export type { DetectErrorCode } from './errors.js';

/**
 * Create every rule detector, in this order: `portscan.vertical`, `hostsweep.horizontal`,
 * `scan.random` (sharing one connection memory). With
 * `deps.metrics`, their counters are exported there as `floe_detect_*` (metrics.ts).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createDetectors(opts: DetectorOptions, deps: DetectorDeps = {}): Array<Detector & WindowDetector> {
  // One connection memory for the scan detectors: each record's identity is built and looked up once.
  // and one first-sighting gate: a source's first attempt is held once for all of them (gate.ts).
  const scan: DetectorDeps = {
    ...deps,
    connections: deps.connections ?? new SeenConnections(CONNECTION_MEMORY_MS, 1),
    gate: deps.gate ?? new FirstSightGate(checkLimits(deps.limits, 2).maxKeys),
  };
  return [
    createPortScanDetector(opts.portscan, scan),
    createHostSweepDetector(opts.hostsweep, scan),
    createRandomScanDetector(opts.randomScan ?? (defaultDetectorOptions().randomScan as RandomScanOptions), scan),
  ];
}
