/**
 * Horizontal host sweep: one source probing one service on many hosts (MITRE ATT&CK T1046).
 * Key: (source, protocol, destination port); for ICMP/ICMPv6 the ICMP type stands in for the
 * port (an echo-request sweep is keyed by type 8 / 128). Protocols with neither ports nor an ICMP
 * type are keyed by protocol alone. Item: destination address.
 */
import { PROTO, protocolName, type Finding, type FlowRecord } from '@floe/flow';
import { DistinctWindows } from './window.js';
import { checkHostSweepOptions, checkLateness, checkLimits, type HostSweepOptions } from './options.js';
import { DEFAULT_PRODUCED_BY, EVIDENCE_LIST_MAX, MITRE_NETWORK_SERVICE_DISCOVERY, compareAddr, scanScore, timingAndThreshold } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { entityOf } from './entity.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the horizontal host-sweep detector. */
export const HOSTSWEEP_ID = 'hostsweep.horizontal';

function serviceOf(f: FlowRecord): string {
  if (f.dstPort !== undefined) return String(f.dstPort);
  if ((f.protocol === PROTO.icmp || f.protocol === PROTO.icmpv6) && f.icmpType !== undefined) return `type${f.icmpType}`;
  return '';
}

/**
 * Create the horizontal host-sweep detector (`hostsweep.horizontal`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createHostSweepDetector(options: HostSweepOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkHostSweepOptions(options);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const windows = new DistinctWindows(
    {
      windowMs: o.windowMs,
      threshold: o.minHosts,
      updateOnDouble: o.updateOnDouble === true,
      detectorId: HOSTSWEEP_ID,
      counts: () => true,
      keyOf: (f: FlowRecord) => `${f.srcAddr}|${f.protocol}|${serviceOf(f)}`,
      itemOf: (f: FlowRecord) => f.dstAddr,
      finding(st, flow): Finding {
        const hosts = st.itemKeys() as string[];
        hosts.sort(compareAddr);
        const distinct = hosts.length;
        const service = serviceOf(flow);
        const what =
          flow.dstPort !== undefined ? `${protocolName(flow.protocol)}/${service}` : service === '' ? protocolName(flow.protocol) : `${protocolName(flow.protocol)} ${service}`;
        const listed = hosts.slice(0, EVIDENCE_LIST_MAX);
        const timed = st.untimed === 0;
        const evidence: Finding['evidence'] = {
          flows: st.flows,
          verdicts: { ...st.verdicts },
          distinctHosts: distinct,
          hosts: listed,
          protocol: flow.protocol,
          sample: st.samples(),
          windowMs: o.windowMs,
          threshold: o.minHosts,
          capped: st.capped,
          ...(st.distinctEstimate !== undefined ? { distinctEstimate: st.distinctEstimate } : {}),
          timesFromRecords: timed,
        };
        if (flow.dstPort !== undefined) {
          evidence.ports = [flow.dstPort];
          evidence.distinctPorts = 1;
        }
        if (flow.icmpType !== undefined && flow.dstPort === undefined) evidence.icmpType = flow.icmpType;
        return {
          id: st.id,
          schema: 1,
          firstSeen: st.first,
          lastSeen: st.last,
          detector: HOSTSWEEP_ID,
          kind: 'detector',
          severity: o.severity,
          score: scanScore(distinct, o.minHosts, timed ? st.last - st.first : o.windowMs, o.windowMs),
          entity: entityOf(flow),
          peers: listed,
          summary: `${flow.srcAddr} probed ${what} on ${distinct}${st.capped ? '+' : ''} distinct hosts${timingAndThreshold(st.first, st.last, timed, o.minHosts, o.windowMs)}`,
          evidence,
          mitre: MITRE_NETWORK_SERVICE_DISCOVERY,
          producedBy,
        };
      },
    },
    checkLimits(deps.limits, o.minHosts),
    checkLateness(deps.lateness),
    deps.connections,
    deps.gate,
  );
  const d: WindowDetector = {
    id: HOSTSWEEP_ID,
    observe: (flow) => windows.observe(flow),
    expire: (nowMs) => windows.expire(nowMs),
    flush: () => windows.flush(),
    stats: () => windows.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}
