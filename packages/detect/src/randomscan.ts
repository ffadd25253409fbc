/**
 * Random scan (masscan style): one source probing many distinct (destination address, protocol,
 * port) pairs, each host on a few ports and each port on a few hosts, so neither the vertical
 * port-scan nor the host-sweep detector reaches its threshold (MITRE ATT&CK T1046). Key: source
 * address; item: the pair. Raised when the window holds `minPairs` pairs spanning at least
 * `minHosts` hosts and `minPorts` ports (Zeek bro-simple-scan's `Random_Scan`: its 25 unique
 * host+port attempts, more than 5 hosts and more than 5 ports; defaults in options.ts).
 * Protocols without ports (ICMP, GRE, ...) are ignored.
 *
 * Like the other scan detectors it counts connection attempts (each connection once), answered
 * or not when the records do not say: a client that really talks to 25 (host, port) pairs over
 * 6+ hosts and 6+ ports in 5 minutes (a monitoring scraper) raises it too; raise `minPairs` or
 * `minPorts` for such sources' sites, or let the policy's allow rules name them.
 */
import { protocolName, type Finding, type FlowRecord } from '@floe/flow';
import { DistinctWindows, type WindowView } from './window.js';
import { checkLateness, checkLimits, checkRandomScanOptions, type RandomScanOptions } from './options.js';
import { DEFAULT_PRODUCED_BY, EVIDENCE_LIST_MAX, MITRE_NETWORK_SERVICE_DISCOVERY, compareAddr, scanScore, timingAndThreshold } from './finding.js';
import { trackDetectorMetrics } from './metrics.js';
import { entityOf } from './entity.js';
import type { DetectorDeps, WindowDetector } from './portscan.js';

/** Detector id of the random-scan detector. */
export const RANDOMSCAN_ID = 'scan.random';

/** One probed pair, as the item of the window: `addr|protocol|port`. */
function pairOf(f: FlowRecord): string {
  return `${f.dstAddr}|${f.protocol}|${f.dstPort}`;
}

interface Pair {
  addr: string;
  protocol: number;
  port: number;
}

function parsePair(s: string): Pair {
  const j = s.lastIndexOf('|');
  const i = s.lastIndexOf('|', j - 1);
  return { addr: s.slice(0, i), protocol: Number(s.slice(i + 1, j)), port: Number(s.slice(j + 1)) };
}

/** Distinct hosts and port numbers among a window's pairs. O(pairs). */
function spread(st: WindowView): { hosts: Set<string>; ports: Set<number>; pairs: Pair[] } {
  const hosts = new Set<string>();
  const ports = new Set<number>();
  const pairs: Pair[] = [];
  for (const k of st.itemKeys()) {
    const p = parsePair(k as string);
    hosts.add(p.addr);
    ports.add(p.port);
    pairs.push(p);
  }
  return { hosts, ports, pairs };
}

/**
 * Create the random-scan detector (`scan.random`).
 * @throws DetectError (FLOE_DETECT_BAD_OPTIONS) when options or limits are out of range.
 */
export function createRandomScanDetector(options: RandomScanOptions, deps: DetectorDeps = {}): WindowDetector {
  const o = checkRandomScanOptions(options);
  const producedBy = deps.producedBy ?? DEFAULT_PRODUCED_BY;
  const windows = new DistinctWindows(
    {
      windowMs: o.windowMs,
      threshold: o.minPairs,
      updateOnDouble: o.updateOnDouble === true,
      detectorId: RANDOMSCAN_ID,
      counts: (f: FlowRecord) => f.dstPort !== undefined,
      keyOf: (f: FlowRecord) => f.srcAddr,
      itemOf: pairOf,
      ready(st) {
        const s = spread(st);
        return s.hosts.size >= o.minHosts && s.ports.size >= o.minPorts;
      },
      finding(st, ref): Finding {
        const { hosts, ports, pairs } = spread(st);
        pairs.sort((a, b) => compareAddr(a.addr, b.addr) || a.port - b.port || a.protocol - b.protocol);
        const hostList = [...hosts].sort(compareAddr);
        const portList = [...ports].sort((a, b) => a - b);
        const distinct = pairs.length;
        const timed = st.untimed === 0;
        return {
          id: st.id,
          schema: 1,
          firstSeen: st.first,
          lastSeen: st.last,
          detector: RANDOMSCAN_ID,
          kind: 'detector',
          severity: o.severity,
          score: scanScore(distinct, o.minPairs, timed ? st.last - st.first : o.windowMs, o.windowMs),
          entity: entityOf(ref),
          peers: hostList.slice(0, EVIDENCE_LIST_MAX),
          summary: `${ref.srcAddr} probed ${distinct}${st.capped ? '+' : ''} distinct host:port pairs (${hosts.size} hosts, ${ports.size} ports)${timingAndThreshold(st.first, st.last, timed, o.minPairs, o.windowMs)}`,
          evidence: {
            flows: st.flows,
            verdicts: st.verdicts,
            distinctPairs: distinct,
            pairs: pairs.slice(0, EVIDENCE_LIST_MAX).map((p) => `${p.addr.includes(':') ? `[${p.addr}]` : p.addr}:${p.port}/${protocolName(p.protocol)}`),
            distinctHosts: hosts.size,
            hosts: hostList.slice(0, EVIDENCE_LIST_MAX),
            distinctPorts: ports.size,
            ports: portList.slice(0, EVIDENCE_LIST_MAX),
            sample: st.samples(),
            windowMs: o.windowMs,
            threshold: o.minPairs,
            minHosts: o.minHosts,
            minPorts: o.minPorts,
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
    checkLimits(deps.limits, o.minPairs),
    checkLateness(deps.lateness),
    deps.connections,
    deps.gate,
  );
  const d: WindowDetector = {
    id: RANDOMSCAN_ID,
    observe: (flow) => windows.observe(flow),
    expire: (nowMs) => windows.expire(nowMs),
    flush: () => windows.flush(),
    stats: () => windows.stats(),
  };
  if (deps.metrics !== undefined) trackDetectorMetrics(deps.metrics, d);
  return d;
}
