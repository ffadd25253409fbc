/**
 * Vertical port scan: one source probing many destination ports of one host
 * (MITRE ATT&CK T1046). Key: (source, destination); item: destination port. Protocols without
 * ports (ICMP, GRE, ...) are ignored. TCP, UDP and SCTP ports share one count: a scan of
 * 10 TCP and 10 UDP ports counts 20 (port numbers, not services).
 */
import type { Finding, FlowRecord } from '@floe/flow';
import { DistinctWindows, type WindowStats } from './window.js';
import { checkLimits, checkPortScanOptions, type DetectorLimits, type PortScanOptions } from './options.js';
import { DEFAULT_PRODUCED_BY, EVIDENCE_LIST_MAX, MITRE_NETWORK_SERVICE_DISCOVERY, findingId, scanScore } from './finding.js';
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
}

/** A windowed detector with counters. */
export interface WindowDetector extends Detector {
  /** Counters: keys tracked, evictions, attempts, findings. */
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
      keyOf: (f: FlowRecord) => (f.dstPort === undefined ? undefined : `${f.srcAddr}|${f.dstAddr}`),
      itemOf: (f: FlowRecord) => f.dstPort as number,
      finding(key, st, flow): Finding {
        const ports = [...st.items.keys()] as number[];
        ports.sort((a, b) => a - b);
        const distinct = ports.length;
        return {
          id: findingId(PORTSCAN_ID, key, st.start),
          schema: 1,
          firstSeen: st.start,
          lastSeen: st.lastSeen,
          detector: PORTSCAN_ID,
          kind: 'detector',
          severity: o.severity,
          score: scanScore(distinct, o.minPorts, st.lastSeen - st.start, o.windowMs),
          entity: entityOf(flow),
          peers: [flow.dstAddr],
          summary: `${flow.srcAddr} probed ${distinct}${st.capped ? '+' : ''} distinct ports of ${flow.dstAddr} within ${Math.round((st.lastSeen - st.start) / 1000)} s (threshold ${o.minPorts} in ${o.windowMs / 1000} s)`,
          evidence: {
            flows: st.flows,
            verdicts: { ...st.verdicts },
            distinctPorts: distinct,
            ports: ports.slice(0, EVIDENCE_LIST_MAX),
            sample: st.sample.map((s) => ({ ...s })),
            windowMs: o.windowMs,
            threshold: o.minPorts,
            capped: st.capped,
          },
          mitre: MITRE_NETWORK_SERVICE_DISCOVERY,
          producedBy,
        };
      },
    },
    checkLimits(deps.limits, o.minPorts),
  );
  return {
    id: PORTSCAN_ID,
    observe: (flow) => windows.observe(flow),
    expire: (nowMs) => windows.expire(nowMs),
    stats: () => windows.stats(),
  };
}
