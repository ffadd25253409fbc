import { escapeText, type FlowRecord } from '@floe/flow';
import { policiesToYaml, suggestNetworkPolicies } from '@floe/kube';
import type { Store } from '@floe/store';

/** Options of `floe policy suggest` (times in ms since epoch). */
export interface SuggestCliOptions {
  from?: number;
  to?: number;
  namespace?: string;
}

/**
 * The one flow kept per distinct (ends, backend, port, protocol, pods): what a NetworkPolicy
 * rule depends on. The store may hold millions of flows of a few hundred such tuples.
 */
function tupleKey(f: FlowRecord): string {
  return [f.srcAddr, f.dstAddr, f.replySrcAddr ?? '', f.replySrcPort ?? '', f.dstPort ?? '', f.protocol, f.srcMeta?.pod ?? '', f.dstMeta?.pod ?? ''].join('|');
}

/**
 * `floe policy suggest`: reads the store's enriched flows with `observedAt` in [from, to) page by
 * page, keeps one flow per distinct tuple, and prints the NetworkPolicies that allow exactly
 * them (YAML on `out`, a summary on `err`). Returns the number of policies printed.
 */
export async function suggestFromStore(store: Store, o: SuggestCliOptions, out: (text: string) => void, err: (line: string) => void): Promise<number> {
  const tuples = new Map<string, FlowRecord>();
  let read = 0;
  let cursor: string | undefined;
  do {
    const p = await store.readFlows({ since: o.from, until: o.to, cursor });
    for (const f of p.items) {
      read++;
      if (f.srcMeta?.pod === undefined && f.dstMeta?.pod === undefined) continue;
      const k = tupleKey(f);
      if (!tuples.has(k)) tuples.set(k, f);
    }
    cursor = p.next;
  } while (cursor !== undefined);
  const r = suggestNetworkPolicies(tuples.values(), { namespace: o.namespace });
  if (r.policies.length > 0) out(policiesToYaml(r.policies));
  const skipped = Object.entries(r.skipped)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  err(
    `floe policy suggest: ${read} flows read, ${tuples.size} distinct with a pod end, ${r.used} used${skipped ? `, skipped: ${skipped}` : ''}; ${r.policies.length} NetworkPolicies${o.namespace ? ` in namespace ${escapeText(o.namespace)}` : ''}`,
  );
  if (r.policies.length === 0) err('floe policy suggest: no policy: no stored flow names a pod with labels (is kube.enabled on in the processor?)');
  return r.policies.length;
}
