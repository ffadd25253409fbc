/** The finding entity of a scan: the flow's source, with its enrichment when known. */
import type { FindingEntity, FlowRecord } from '@floe/flow';

/** Entity of a scan finding: `srcAddr`, plus namespace/pod/workload from `srcMeta` when present. */
export function entityOf(flow: FlowRecord): FindingEntity {
  const e: FindingEntity = { addr: flow.srcAddr };
  const m = flow.srcMeta;
  if (m?.namespace !== undefined) e.namespace = m.namespace;
  if (m?.pod !== undefined) e.pod = m.pod;
  if (m?.workload !== undefined) e.workload = m.workload;
  return e;
}
