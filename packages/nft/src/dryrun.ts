import { canonicalTarget, coverKey, parsePrefix } from './cidr.js';
import { NFT_ERROR_CODES, NftError } from './errors.js';
import { Staging, type NftDeps } from './driver.js';
import { noopLogger } from '@floe/telemetry/lite';
import { createNftMetrics } from './metrics.js';
import { resolveNftOptions, timeoutSeconds } from './render.js';
import type { CommitResult, ListedEntry, NftDriver, NftOptions } from './types.js';

/** One recorded call of the dry-run driver. */
export interface DryRunCall {
  op: 'ensure' | 'add' | 'delete' | 'commit' | 'list' | 'destroy';
  /** Clock time of the call (ms since epoch). */
  at: number;
  /** Targets passed to add/delete. */
  targets?: string[];
  /** What commit applied. */
  result?: CommitResult;
}

/** The dry-run driver: an {@link NftDriver} plus the calls it recorded, oldest first. */
export type DryRunDriver = NftDriver & { readonly calls: DryRunCall[] };

/**
 * A real backend that touches no kernel state (cs-firewall-bouncer's dry-run backend): it logs
 * every call at info level, records it in `calls`, and keeps the sets in memory with nft's
 * semantics: timeouts rounded up to whole seconds (minimum 1 s) and expiring by the clock,
 * re-add refreshes, delete of an absent element is ignored, an element overlapping another one
 * fails the commit (FLOE_NFT_APPLY_FAILED, as an interval set does) and nothing of it applies.
 * list() before ensure() fails with FLOE_NFT_LIST_FAILED, as nft does without the table.
 * Counts in the `floe_nft_*` metrics with mode `dry-run` (a commit that changed something is one
 * transaction).
 */
export function createDryRunDriver(opts: Partial<NftOptions> = {}, deps: NftDeps = {}): DryRunDriver {
  const o = resolveNftOptions(opts);
  const log = (deps.logger ?? noopLogger).child({ component: 'nft', adapter: 'dry-run' });
  const m = createNftMetrics(deps.metrics);
  const now = deps.now ?? Date.now;
  const staging = new Staging();
  const calls: DryRunCall[] = [];
  let table: Map<string, number> | undefined;

  function record(c: Omit<DryRunCall, 'at'>): void {
    const call = { ...c, at: now() };
    calls.push(call);
    log.info({ dryRun: true, ...call, targets: c.targets?.length }, `dry-run nft ${c.op}`);
  }

  function prune(t: number, op: 'commit' | 'list'): Map<string, number> {
    if (!table) {
      m.errors.inc({ mode: 'dry-run', op });
      throw new NftError(NFT_ERROR_CODES.LIST_FAILED, `dry-run: no table ${o.family} ${o.table}`);
    }
    for (const [k, exp] of table) if (exp <= t) table.delete(k);
    return table;
  }

  return {
    mode: 'dry-run',
    calls,
    async ensure() {
      record({ op: 'ensure' });
      table ??= new Map();
      m.transactions.inc({ mode: 'dry-run', op: 'ensure' });
    },
    add(entries) {
      staging.add(entries);
      record({ op: 'add', targets: entries.map((e) => e.target) });
    },
    delete(targets) {
      staging.delete(targets);
      record({ op: 'delete', targets: [...targets] });
    },
    async commit() {
      const { adds, deletes } = staging.take();
      const t = now();
      if (adds.length === 0 && deletes.length === 0) {
        record({ op: 'commit', result: { added: 0, deleted: 0 } });
        return { added: 0, deleted: 0 };
      }
      const next = new Map(prune(t, 'commit'));
      let deleted = 0;
      for (const d of deletes) if (next.delete(d.text)) deleted++;
      let added = 0;
      for (const a of adds) {
        if (a.expiresAt <= t) continue;
        next.set(a.text, t + timeoutSeconds(a.expiresAt, t) * 1000);
        added++;
      }
      // Interval (prefix) sets refuse overlapping elements; host sets hold distinct addresses.
      const nets = [...next.keys()].filter((k) => k.includes('/')).map((k) => parsePrefix(k));
      const keys = new Set(nets.map((p) => coverKey(p, p.len)));
      for (const p of nets) {
        for (let len = 0; len < p.len; len++) {
          if (keys.has(coverKey(p, len))) {
            m.errors.inc({ mode: 'dry-run', op: 'commit' });
            throw new NftError(NFT_ERROR_CODES.APPLY_FAILED, `dry-run: ${p.cidr}: interval overlaps with an existing one`);
          }
        }
      }
      table = next;
      m.transactions.inc({ mode: 'dry-run', op: 'commit' });
      m.elements.inc({ mode: 'dry-run', change: 'added' }, added);
      m.elements.inc({ mode: 'dry-run', change: 'deleted' }, deleted);
      const result = { added, deleted };
      record({ op: 'commit', result });
      return result;
    },
    async list(): Promise<ListedEntry[]> {
      record({ op: 'list' });
      const t = now();
      return [...prune(t, 'list')].map(([text, exp]) => ({ target: text.includes('-') ? text : canonicalTarget(text), expiresInMs: Math.floor((exp - t) / 1000) * 1000 }));
    },
    async destroy() {
      record({ op: 'destroy' });
      table = undefined;
      m.transactions.inc({ mode: 'dry-run', op: 'destroy' });
    },
  };
}
