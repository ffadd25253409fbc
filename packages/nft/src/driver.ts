import { NFT_ERROR_CODES, NftError, locateNftError } from './errors.js';
import { runNft } from './exec.js';
import { parseNftJson } from './parse.js';
import { elementRef, renderAdds, renderDeletes, renderDestroy, renderRuleset, resolveNftOptions, timeoutSeconds, type ElementRef } from './render.js';
import { noopLogger, type Logger, type Registry } from '@floe/telemetry/lite';
import { createNftMetrics, type NftOp } from './metrics.js';
import type { BlockEntry, CommitResult, ListedEntry, NftDriver, NftOptions } from './types.js';

/** Dependencies of the drivers: a logger, a metrics registry and a clock. All optional. */
export interface NftDeps {
  /** Parent logger; the driver logs through a child `{ component: 'nft', adapter: 'nft' | 'dry-run' }`. Default: none. */
  logger?: Logger;
  /** prom-client registry for the `floe_nft_*` metrics (metrics.ts). Default: a private one. */
  metrics?: Registry;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
}

/** Staged adds (by canonical element text) and deletes, shared by both drivers. */
export class Staging {
  adds = new Map<string, ElementRef & { expiresAt: number }>();
  deletes = new Map<string, ElementRef>();

  add(entries: BlockEntry[]): void {
    for (const e of entries) {
      if (!e.target.includes('/') && e.target.includes('-')) {
        throw new NftError(NFT_ERROR_CODES.BAD_TARGET, `cannot add a range: ${e.target}`, { target: e.target });
      }
    }
    const refs = entries.map((e) => ({ ...elementRef(e.target), expiresAt: e.expiresAt }));
    for (const r of refs) {
      this.deletes.delete(r.text);
      this.adds.set(r.text, r);
    }
  }

  delete(targets: string[]): void {
    const refs = targets.map((t) => elementRef(t));
    for (const r of refs) {
      this.adds.delete(r.text);
      this.deletes.set(r.text, r);
    }
  }

  /** Returns and clears what is staged. */
  take(): { adds: Array<ElementRef & { expiresAt: number }>; deletes: ElementRef[] } {
    const out = { adds: [...this.adds.values()], deletes: [...this.deletes.values()] };
    this.adds.clear();
    this.deletes.clear();
    return out;
  }
}

/**
 * The real nftables driver: every change goes through `nft -f -` as one transaction per chunk
 * of `chunkSize` element operations; reads use `nft -j list table`. Needs CAP_NET_ADMIN (root)
 * in the target network namespace. Construction does no I/O. Counts every transaction, failed
 * run and committed element in the `floe_nft_*` metrics (mode `nft`).
 */
export function createNftDriver(opts: Partial<NftOptions> = {}, deps: NftDeps = {}): NftDriver {
  const o = resolveNftOptions(opts);
  const log = (deps.logger ?? noopLogger).child({ component: 'nft', adapter: 'nft' });
  const m = createNftMetrics(deps.metrics);
  const now = deps.now ?? Date.now;
  const staging = new Staging();
  const exec = { nftPath: o.nftPath, netns: o.netns, execTimeoutMs: o.execTimeoutMs };

  async function apply(script: string, what: string, op: NftOp): Promise<void> {
    const r = await runNft(['-f', '-'], script, exec).catch((err: unknown) => {
      m.errors.inc({ mode: 'nft', op });
      throw err;
    });
    if (r.code !== 0) {
      m.errors.inc({ mode: 'nft', op });
      const loc = locateNftError(r.stderr, script);
      const msg = `nft ${what} failed${loc.line ? ` at script line ${loc.line}` : ''}: ${loc.message ?? r.stderr.trim()}`;
      throw new NftError(NFT_ERROR_CODES.APPLY_FAILED, msg, {
        stderr: r.stderr,
        line: loc.line,
        scriptLine: loc.scriptLine,
        exitCode: r.code,
      });
    }
    m.transactions.inc({ mode: 'nft', op });
  }

  async function list(): Promise<ListedEntry[]> {
    const r = await runNft(['-j', 'list', 'table', o.family, o.table], undefined, exec);
    if (r.code !== 0) {
      m.errors.inc({ mode: 'nft', op: 'list' });
      throw new NftError(NFT_ERROR_CODES.LIST_FAILED, `nft list table ${o.family} ${o.table} failed: ${r.stderr.trim()}`, {
        stderr: r.stderr,
        exitCode: r.code,
      });
    }
    return parseNftJson(r.stdout, [o.set4, o.set6, o.net4, o.net6]).map(({ target, expiresInMs }) => (expiresInMs === undefined ? { target } : { target, expiresInMs }));
  }

  async function applyChanges(adds: Array<ElementRef & { expiresAt: number }>, deletes: ElementRef[]): Promise<CommitResult> {
    // Read back first (cs-firewall-bouncer): deleting an absent element fails the transaction,
    // and a present element must be deleted before it is re-added to take its new timeout.
    const key = (r: ElementRef): string => `${r.set}|${r.text}`;
    const held = new Set(
      (await list()).flatMap((e) => {
        try {
          return [key(elementRef(e.target))];
        } catch {
          return [];
        }
      }),
    );
    const t = now();
    const live = adds.filter((a) => a.expiresAt > t).map((a) => ({ ...a, timeoutS: timeoutSeconds(a.expiresAt, t) }));
    const dropped = deletes.filter((d) => held.has(key(d)));
    const refreshed = live.filter((a) => held.has(key(a)));
    const chunk = o.chunkSize ?? 20000;
    let transactions = 0;
    for (let i = 0, j = 0; i < dropped.length || j < live.length; ) {
      const dels = dropped.slice(i, i + chunk);
      const ads = live.slice(j, j + Math.max(0, chunk - dels.length));
      i += dels.length;
      j += ads.length;
      const refresh = ads.filter((a) => held.has(key(a)));
      const lines = [...renderDeletes(o, [...dels, ...refresh]), ...renderAdds(o, ads)];
      await apply(lines.join('\n') + '\n', `commit (${dels.length} deletions, ${ads.length} additions)`, 'commit');
      transactions++;
      m.elements.inc({ mode: 'nft', change: 'added' }, ads.length);
      m.elements.inc({ mode: 'nft', change: 'deleted' }, dels.length);
    }
    log.debug({ added: live.length, refreshed: refreshed.length, deleted: dropped.length, transactions }, 'nft commit');
    return { added: live.length, deleted: dropped.length };
  }

  return {
    mode: 'nft',
    async ensure() {
      await apply(renderRuleset(o), 'ensure', 'ensure');
      log.info({ table: `${o.family} ${o.table}`, netns: o.netns }, 'nft table ensured');
    },
    add(entries) {
      staging.add(entries);
    },
    delete(targets) {
      staging.delete(targets);
    },
    async commit() {
      const { adds, deletes } = staging.take();
      if (adds.length === 0 && deletes.length === 0) return { added: 0, deleted: 0 };
      try {
        return await applyChanges(adds, deletes);
      } catch (err) {
        // An element may have timed out between the read-back and the commit: read again once.
        if (err instanceof NftError && err.code === NFT_ERROR_CODES.APPLY_FAILED) {
          log.warn({ err: err.message }, 'nft commit failed; retrying once after a fresh read-back');
          return await applyChanges(adds, deletes);
        }
        throw err;
      }
    },
    list,
    async destroy() {
      await apply(renderDestroy(o), 'destroy', 'destroy');
      log.info({ table: `${o.family} ${o.table}`, netns: o.netns }, 'nft table removed');
    },
  };
}

/**
 * Says whether the real driver can work here: running as root (uid 0), the nft binary starts,
 * and `nft list tables` succeeds (in `netns` when given). `reason` says what failed:
 * "not root", "nft not found", or nft's own error text.
 */
export async function nftAvailable(opts: Pick<Partial<NftOptions>, 'nftPath' | 'netns'> = {}): Promise<{ ok: boolean; reason?: string }> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'not root' };
  try {
    const r = await runNft(['list', 'tables'], undefined, { nftPath: opts.nftPath, netns: opts.netns, execTimeoutMs: 10000 });
    if (r.code !== 0) return { ok: false, reason: `nft list tables failed: ${r.stderr.trim() || `exit ${r.code}`}` };
    return { ok: true };
  } catch (err) {
    if (err instanceof NftError && err.code === NFT_ERROR_CODES.UNAVAILABLE) {
      return { ok: false, reason: opts.netns ? `ip not found (${err.message})` : 'nft not found' };
    }
    throw err;
  }
}
