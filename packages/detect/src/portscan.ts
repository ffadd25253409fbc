/**
 * Vertical port scan: one source probing many destination ports of one host
 * (MITRE ATT&CK T1046). Key: (source, destination); item: destination port. Protocols without
 * ports (ICMP, GRE, ...) are ignored. TCP, UDP and SCTP ports share one count: a scan of
 * 10 TCP and 10 UDP ports counts 20 (port numbers, not services).
 */
import type { Finding, FlowRecord } from '@floe/flow';
import type { Registry } from '@floe/telemetry';
import { DistinctWindows, type WindowStats } from './window.js';
import type { SeenConnections } from './attempt.js';
import type { FirstSightGate } from './gate.js';
import { checkLateness, checkLimits, checkPortScanOptions, type DetectorLimits, type PortScanOptions } from './options.js';
import { DEFAULT_PRODUCED_BY, EVIDENCE_LIST_MAX, MITRE_NETWORK_SERVICE_DISCOVERY, scanScore, timingAndThreshold } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { entityOf } from './entity.js';
import type { Detector } from './detector.js';

/** Detector id of the vertical port-scan detector. */
export const PORTSCAN_ID = 'portscan.vertical';

/** Dependencies of a detector factory. */
export interface DetectorDeps {
  /** Written to `Finding.producedBy` (policy or build version); default `floe-detect/0.1.0`. */
  producedBy?: string;
  /** Memory limits (defaults in {@link defaultDetectorLimits}). */
  limits?: Partial<DetectorLimits>;
  /** Prometheus registry for the `floe_detect_*` metrics (see metrics.ts); none when absent. */
  metrics?: Registry;
  /**
   * ms of event time a window stays open after it ended, for records arriving late, before a newer
   * record closes it (default `DEFAULT_LATENESS_MS`, 5 s). `Infinity` for input in any order
   * (an offline analysis): windows then close only by a record of their own key, `expire` or `flush`.
   */
  lateness?: number;
  /**
   * Connection memory shared with other detectors (one identity string and lookup per record for
   * all of them); `createDetectors` passes one to the scan detectors. A private memory when absent.
   */
  connections?: SeenConnections;
  /** First-sighting gate shared with other scan detectors (gate.ts); `createDetectors` passes one. None: every attempt counts at once. */
  gate?: FirstSightGate;
}

/** A windowed detector with counters. */
export interface WindowDetector extends Detector {
  /** Counters: flows, keys tracked, evictions, attempts, findings by kind. */
  stats(): WindowStats;
}

/**
 * Create the vertical port-scan detector (`portscan.vertical`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createPortScanDetector(options: PortScanOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkPortScanOptions(options);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const windows = new DistinctWindows(
    {
      windowMs: o.windowMs,
      threshold: o.minPorts,
      updateOnDouble: o.updateOnDouble === true,
      detectorId: PORTSCAN_ID,
      counts: (f: FlowRecord) => f.dstPort !== undefined,
      keyOf: (f: FlowRecord) => `${f.srcAddr}|${f.dstAddr}`,
      itemOf: (f: FlowRecord) => f.dstPort as number,
      finding(st, ref): Finding {
        const ports = st.itemKeys() as number[];
        ports.sort((a, b) => a - b);
        const distinct = ports.length;
        const timed = st.untimed === 0;
        return {
          id: st.id,
          schema: 1,
          firstSeen: st.first,
          lastSeen: st.last,
          detector: PORTSCAN_ID,
          kind: 'detector',
          severity: o.severity,
          score: scanScore(distinct, o.minPorts, timed ? st.last - st.first : o.windowMs, o.windowMs),
          entity: entityOf(ref),
          peers: [ref.dstAddr],
          summary: `${ref.srcAddr} probed ${distinct}${st.capped ? '+' : ''} distinct ports of ${ref.dstAddr}${timingAndThreshold(st.first, st.last, timed, o.minPorts, o.windowMs)}`,
          evidence: {
            flows: st.flows,
            verdicts: { ...st.verdicts },
            distinctPorts: distinct,
            ports: ports.slice(0, EVIDENCE_LIST_MAX),
            sample: st.samples(),
            windowMs: o.windowMs,
            threshold: o.minPorts,
            capped: st.capped,
            ...(st.distinctEstimate !== undefined ? { distinctEstimate: st.distinctEstimate } : {}),
            ...(st.distinctEstimate !== undefined ? { distinctEstimate: st.distinctEstimate } : {}),
            timesFromRecords: timed,
          },
          mitre: MITRE_NETWORK_SERVICE_DISCOVERY,
          producedBy,
        };
      },
    },
    checkLimits(deps.limits, o.minPorts),
    checkLateness(deps.lateness),
    deps.connections,
    deps.gate,
  );
  const d: WindowDetector = {
    id: PORTSCAN_ID,
    observe: (flow) => windows.observe(flow),
    expire: (nowMs) => windows.expire(nowMs),
    flush: () => windows.flush(),
    stats: () => windows.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}
