/** The finding entity of a scan: the flow's source, with its enrichment when known. */
import type { EndpointMeta, FindingEntity, FlowRecord } from '@floe/flow';

/** Entity of a scan finding: `srcAddr`, plus namespace/pod/workload from `srcMeta` when present. */
export function entityOf(flow: FlowRecord): FindingEntity {
  return entityOfSource(flow.srcAddr, flow.srcMeta);
}

/** Entity of a source address `addr` with its enrichment `m` (as entityOf gives it for a flow from `addr`). */
export function entityOfSource(addr: string, m: EndpointMeta | undefined): FindingEntity {
  const e: FindingEntity = { addr };
  if (m?.namespace !== undefined) e.namespace = m.namespace;
  if (m?.pod !== undefined) e.pod = m.pod;
  if (m?.workload !== undefined) e.workload = m.workload;
  return e;
}
