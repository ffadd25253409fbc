/**
 * Keeps this process's run-time never-block entries and suppression rules in step with the
 * store (issue 8): loaded at start, re-read every `intervalMs` (another process — the API of a
 * scale-out deployment — may have changed them) and at once when this process's API changed
 * them (`refresh`). A changed never-block list goes into the shared LiveProtectedSet, then
 * `onNeverBlockChanged` (the enforcer re-checks its blocks) is awaited; the suppressor gets the
 * unexpired rules.
 */
import type { LiveProtectedSet, RuntimeNeverBlock, Suppressor } from '@floe/respond';
import type { NeverBlockEntry, Store } from '@floe/store';
import type { Logger } from '@floe/telemetry';
import type { Component } from './lifecycle.js';

/** Default period of the store re-read (ms). */
export const TRIAGE_SYNC_INTERVAL_MS = 5000;

/** Dependencies of {@link createTriageSync}. */
export interface TriageSyncDeps {
  store: Pick<Store, 'listNeverBlock' | 'listSuppressions'>;
  /** Gets the run-time never-block entries (absent: this process neither decides nor enforces). */
  guard?: LiveProtectedSet;
  /** Gets the unexpired suppression rules (absent: this process does not decide). */
  suppressor?: Suppressor;
  logger?: Logger;
  /** Re-read period (ms); default {@link TRIAGE_SYNC_INTERVAL_MS}. */
  intervalMs?: number;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
  /**
   * Awaited after the never-block list changed (the enforcer's protectedChanged: blocks covering a
   * new entry leave the kernel before `refresh` resolves, so before the API answers). A failure
   * rejects the refresh; the list stays applied to the guard.
   */
  onNeverBlockChanged?: () => Promise<void>;
}

/** The sync: a lifecycle component plus an immediate refresh. */
export interface TriageSync extends Component {
  /** Reads both lists from the store now and applies what changed. Rejects with the store's error. */
  refresh(): Promise<void>;
}

/** The label of a run-time never-block entry in the protected set (logs and refusals name it). */
export function neverBlockLabel(e: NeverBlockEntry): string {
  return `never-block list (added at run time by ${e.createdBy}: ${e.reason})`;
}

/** Builds the sync; inert until start(). */
export function createTriageSync(deps: TriageSyncDeps): TriageSync {
  const now = deps.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  /** The entries the guard holds now (those it was built with), so an unchanged list calls nothing. */
  let lastNeverBlock = JSON.stringify(deps.guard?.runtimeNeverBlock() ?? []);
  let lastRules = '';
  let running: Promise<void> | undefined;

  async function load(): Promise<void> {
    if (deps.guard) {
      const list = await deps.store.listNeverBlock();
      const entries: RuntimeNeverBlock[] = list.map((e) => ({ cidr: e.cidr, label: neverBlockLabel(e) }));
      const key = JSON.stringify(entries);
      if (key !== lastNeverBlock) {
        deps.guard.setRuntimeNeverBlock(entries);
        lastNeverBlock = key;
        deps.logger?.info({ entries: entries.length }, 'run-time never-block list loaded');
        await deps.onNeverBlockChanged?.();
      }
    }
    if (deps.suppressor) {
      const rules = await deps.store.listSuppressions({ activeAt: now() });
      const key = JSON.stringify(rules.map((r) => [r.id, r.detector, r.entity, r.namespace, r.port, r.expiresAt]));
      if (key !== lastRules) {
        deps.suppressor.replace(rules);
        lastRules = key;
        deps.logger?.info({ rules: rules.length }, 'suppression rules loaded');
      }
    }
  }

  /** One load at a time; a refresh asked during a load runs after it. */
  function refresh(): Promise<void> {
    const next = (running ?? Promise.resolve()).catch(() => undefined).then(load);
    running = next;
    return next;
  }

  return {
    name: 'triage-sync',
    async start() {
      await refresh();
      timer = setInterval(() => {
        refresh().catch((err: unknown) => deps.logger?.warn({ err: (err as Error).message }, 'never-block / suppression re-read failed; keeping the current lists'));
      }, deps.intervalMs ?? TRIAGE_SYNC_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => undefined);
    },
    refresh,
  };
}
