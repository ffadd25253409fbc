import { TOPICS, type Bus, type BusMessage } from '@floe/bus';
import { escapeText, type Decision } from '@floe/flow';
import {
  coverKey,
  createDryRunDriver,
  createNftDriver,
  effectiveEntries,
  nftAvailable,
  parsePrefix,
  reconcile,
  type BlockEntry,
  type BlockGuard,
  type NftDriver,
  type Prefix,
} from '@floe/nft';
import type { Store } from '@floe/store';
import { noopLogger, type Logger } from '@floe/telemetry';
import type { Registry } from 'prom-client';
import { checkDecision, type DecisionProblemReason } from './check.js';
import { enforcerGroup, type EnforcerOptions } from './config.js';
import { createEnforcerMetrics } from './metrics.js';

/** Dependencies of the enforcer. A `driver` overrides the choice between real nft and dry-run. */
export interface EnforcerDeps {
  bus: Bus;
  store?: Store;
  driver?: NftDriver;
  logger?: Logger;
  metrics?: Registry;
  /** Clock, ms since epoch; default Date.now. */
  now?: () => number;
  /**
   * The protected set (@floe/respond's ProtectedSet, built from the policy and this host's
   * addresses): every decision, whether rebuilt from the store or the topic or newly received,
   * and every reconcile go through it; protected elements already in the kernel are removed at
   * start. Absent: no guard (tests of the plain mechanics).
   */
  guard?: BlockGuard;
}

/** What health() reports. Counts are entries (addresses or prefixes). */
export interface EnforcerHealth {
  /** Running, and the last commit or reconcile succeeded. */
  ok: boolean;
  /**
   * Intended entries the kernel blocked at the last reconcile (equal or covering element);
   * always 0 in dry-run mode, where nothing reaches the kernel (`dryRunHeld` says what would).
   */
  enforced: number;
  /** Dry-run mode only: entries the dry-run driver holds (what nft would hold). */
  dryRunHeld?: number;
  /** Entries (decision targets, or the pieces of a split one) this node should enforce, unexpired. */
  intended: number;
  /** ms since epoch of the last successful reconcile. */
  lastReconcileAt?: number;
  mode: 'nft' | 'dry-run';
}

/** The enforcer service: inert until start(). */
export interface Enforcer {
  /**
   * Picks the driver (real nft when nftAvailable() and not dryRun, else dry-run, logging why),
   * ensures the table, rebuilds from the store's active decisions (one commit), subscribes to
   * floe.decisions.v1 from the beginning (group `floe-enforcer-<node>`), and starts the
   * reconcile timer. Throws when ensure() or the store query fails.
   */
  start(): Promise<void>;
  /**
   * Stops the timer and ignores later deliveries; waits for a running commit. Safe twice and
   * before start. It does NOT remove the nft table: blocks stay until their timeouts end, so a
   * restart or a crash of the enforcer never opens the door.
   */
  stop(): Promise<void>;
  health(): EnforcerHealth;
  /** Runs one reconcile now (also what the timer runs); resolves when applied. */
  reconcileNow(): Promise<void>;
  /**
   * The guard changed (a never-block entry added or removed at run time, issue 8): every intended
   * decision goes through it again (split, held back or whole again) and the kernel is reconciled
   * with the result at once, so a block covering a newly protected address leaves the kernel now,
   * not at the next timer. Resolves when applied.
   */
  protectedChanged(): Promise<void>;
}

/** True when `d` applies to `node`: not dry-run, scope `all` or listing the node, not expired. */
export function isEnforceable(d: Decision, node: string, nowMs: number): boolean {
  if (d.dryRun) return false;
  if (d.action !== 'block') return false;
  if (d.scope !== 'all' && !(Array.isArray(d.scope) && d.scope.includes(node))) return false;
  return d.expiresAt > nowMs;
}

/** How many `intended` entries are inside some element of `held` (equal or wider). */
export function countCovered(intended: BlockEntry[], held: Array<{ target: string }>): number {
  const keys = new Set<string>();
  const lens = { 4: new Set<number>(), 6: new Set<number>() };
  for (const h of held) {
    let p: Prefix;
    try {
      p = parsePrefix(h.target);
    } catch {
      continue; // ranges are not counted
    }
    keys.add(coverKey(p, p.len));
    lens[p.family].add(p.len);
  }
  let n = 0;
  for (const e of intended) {
    const p = parsePrefix(e.target);
    for (const len of lens[p.family]) {
      if (len <= p.len && keys.has(coverKey(p, len))) {
        n++;
        break;
      }
    }
  }
  return n;
}

/**
 * Creates the enforcer: it keeps in memory the decisions this node enforces, applies each bus
 * batch of floe.decisions.v1 in one nft commit (tombstones, dry-run, out-of-scope and expired
 * decisions delete), and reconciles the kernel with that intent every `reconcileIntervalMs`.
 * A failed commit is logged and counted, not rethrown: the intent is already recorded and the
 * next reconcile repairs the kernel (redelivering the batch would not help a broken nft).
 */
export function createEnforcer(opts: EnforcerOptions, deps: EnforcerDeps): Enforcer {
  const log = deps.logger ?? noopLogger;
  const now = deps.now ?? Date.now;
  const m = createEnforcerMetrics(deps.metrics);
  const guard = deps.guard;
  /** Unexpired enforceable decisions by canonical target, with the pieces the guard admitted (`[target]` when whole). */
  const intended = new Map<string, { expiresAt: number; pieces: BlockEntry[] }>();
  /** Every entry to enforce: the admitted pieces of every intended decision. */
  const wanted = (): BlockEntry[] => [...intended.values()].flatMap((d) => d.pieces);
  /** What the last successful commit left in the kernel (effective entries), by target. */
  let mirror: BlockEntry[] = [];
  let driver: NftDriver | undefined;
  let state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  let timer: NodeJS.Timeout | undefined;
  let wake: NodeJS.Timeout | undefined;
  let queue: Promise<void> = Promise.resolve();
  let failing = false;
  let enforced = 0;
  let lastReconcileAt: number | undefined;

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = queue.then(fn);
    queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Entries the kernel really blocks: none in dry-run mode, whatever the dry-run driver holds. */
  function kernelEnforced(): number {
    return driver?.mode === 'dry-run' ? 0 : enforced;
  }

  function updateGauges(): void {
    const n = wanted().length;
    m.intended.set(n);
    m.enforced.set(kernelEnforced());
    m.ratio.set(n === 0 ? 1 : Math.min(1, kernelEnforced() / n));
  }

  function pruneExpired(t: number): void {
    for (const [k, e] of intended) if (e.expiresAt <= t) intended.delete(k);
  }

  function scheduleWake(at: number | undefined): void {
    if (wake) clearTimeout(wake);
    wake = undefined;
    if (at === undefined || state !== 'running') return;
    wake = setTimeout(() => void reconcileNow().catch(() => undefined), Math.max(0, at - now()) + 50);
    wake.unref();
  }

  /**
   * A message the enforcer will not act on: counted (floe_enforcer_decisions_total{outcome="invalid"},
   * floe_enforcer_invalid_decisions_total{reason}) and logged with its key and detail escaped
   * (they come from the bus: no control byte reaches a log or terminal). The intent is unchanged.
   */
  function refuse(msg: BusMessage<unknown>, reason: DecisionProblemReason, detail: string): void {
    m.decisions.inc({ outcome: 'invalid' });
    m.invalid.inc({ reason });
    log.warn(
      { key: escapeText(String(msg.key).slice(0, 200)), offset: msg.offset, reason, detail: escapeText(detail.slice(0, 300)) },
      'enforcer: ignored a decision it cannot read',
    );
  }

  /** Updates the intent from messages; returns the targets whose block must go. */
  function absorb(messages: Array<BusMessage<unknown>>, t: number): string[] {
    const removed: string[] = [];
    for (const m0 of messages) {
      if (m0.value !== null) {
        const problem = checkDecision(m0.value);
        if (problem) {
          refuse(m0, problem.reason, problem.detail);
          continue;
        }
      }
      const msg = m0 as BusMessage<Decision>;
      const raw = msg.value === null ? msg.key : msg.value.target;
      let target: string;
      try {
        target = parsePrefix(raw).cidr;
      } catch (err) {
        refuse(msg, 'bad-target', (err as Error).message);
        continue;
      }
      if (msg.value !== null && isEnforceable(msg.value, opts.node, t)) {
        const expiresAt = msg.value.expiresAt;
        const a = guard?.admit(target) ?? { outcome: 'ok' as const, pieces: [target] };
        if (a.outcome !== 'ok') {
          m.guardWithheld.inc({ reason: a.reason ?? 'unknown', outcome: a.outcome });
          log.warn(
            { target, origin: msg.value.origin, outcome: a.outcome, reason: a.reason, pieces: a.pieces.length },
            `enforcer: decision ${target} overlaps the protected set (${a.detail}); ${a.outcome === 'held' ? 'held back: nothing of it is enforced' : `enforcing the ${a.pieces.length} pieces around it`}`,
          );
          removed.push(target); // the kernel may hold the whole target from before
        }
        const prev = intended.get(target);
        if (prev) removed.push(...prev.pieces.map((p) => p.target).filter((p) => !a.pieces.includes(p)));
        intended.set(target, { expiresAt, pieces: a.pieces.map((p) => ({ target: p, expiresAt })) });
        m.decisions.inc({ outcome: 'block' });
      } else {
        const prev = intended.get(target);
        intended.delete(target);
        removed.push(target, ...(prev?.pieces.map((p) => p.target) ?? []));
        m.decisions.inc({ outcome: msg.value === null ? 'unblock' : 'ignored' });
      }
    }
    return removed;
  }

  /** Applies the intent against what we last committed (no kernel read), plus explicit removals. */
  async function applyIntent(removed: string[], what: string): Promise<void> {
    const d = driver;
    if (!d) return;
    const t = now();
    pruneExpired(t);
    const actual = mirror.map((e) => ({ target: e.target, expiresInMs: e.expiresAt - t }));
    const want = wanted();
    const plan = reconcile(want, actual, t, guard);
    warnGuardBypass(plan.withheld);
    const adding = new Set(plan.toAdd.map((e) => e.target));
    d.delete([...new Set([...plan.toDelete, ...removed])].filter((x) => !adding.has(x)));
    d.add(plan.toAdd);
    try {
      const r = await d.commit();
      mirror = effectiveEntries(want, t).entries;
      failing = false;
      log.debug({ what, ...r, intended: intended.size }, 'enforcer: applied');
    } catch (err) {
      failing = true;
      m.applyErrors.inc();
      log.error({ what, err: (err as Error).message }, 'enforcer: nft commit failed; the reconcile will retry');
    }
    scheduleWake(plan.nextChangeAt);
    updateGauges();
  }

  /** The reconcile's guard found intended entries absorb() had not split: a bug upstream; the guard still kept them out. */
  function warnGuardBypass(withheld: Array<{ target: string; reason?: string }>): void {
    for (const w of withheld) log.error({ target: w.target, reason: w.reason }, 'enforcer: the reconcile guard withheld an intended entry (kept out of the kernel)');
  }

  /**
   * Removes from the kernel every element the guard does not admit as it is (a protected
   * address blocked before the protected set grew, by an older floe or by hand), in one commit.
   * Other elements stay: their decisions are still being read back. Range elements (`a-b`, only
   * ever added by hand) are left to the reconcile, which removes every one as stray.
   */
  async function purgeProtected(d: NftDriver): Promise<void> {
    if (!guard) return;
    const held = await d.list();
    const bad = held.filter((e) => !e.target.includes('-') && guard.admit(e.target).outcome !== 'ok');
    if (bad.length === 0) return;
    for (const e of bad) {
      const a = guard.admit(e.target);
      m.fixes.inc({ kind: 'protected' });
      log.warn({ target: e.target, reason: a.reason, kind: 'protected' }, `enforcer: removing ${e.target} from the kernel: it overlaps the protected set (${a.detail})`);
    }
    d.delete(bad.map((e) => e.target));
    await d.commit();
  }

  async function runReconcile(): Promise<void> {
    const d = driver;
    if (!d || state !== 'running') return;
    const t = now();
    pruneExpired(t);
    const want = wanted();
    try {
      const held = await d.list();
      const plan = reconcile(want, held, t, guard);
      warnGuardBypass(plan.withheld);
      const fixes = plan.missing.length + plan.stray.length + plan.refresh.length;
      let after = held;
      if (fixes > 0) {
        for (const target of plan.missing) log.warn({ target, kind: 'missing' }, 'enforcer: reconcile re-adds a missing block');
        for (const target of plan.stray) log.warn({ target, kind: 'stray' }, 'enforcer: reconcile removes a stray block');
        for (const target of plan.refresh) log.info({ target, kind: 'expiry' }, 'enforcer: reconcile refreshes a timeout');
        d.delete(plan.toDelete);
        d.add(plan.toAdd);
        await d.commit();
        m.fixes.inc({ kind: 'missing' }, plan.missing.length);
        m.fixes.inc({ kind: 'stray' }, plan.stray.length);
        m.fixes.inc({ kind: 'expiry' }, plan.refresh.length);
        after = await d.list();
      }
      mirror = effectiveEntries(want, t).entries;
      enforced = countCovered(want, after);
      lastReconcileAt = now();
      failing = false;
      scheduleWake(plan.nextChangeAt);
    } catch (err) {
      failing = true;
      m.applyErrors.inc();
      log.error({ err: (err as Error).message }, 'enforcer: reconcile failed');
    }
    updateGauges();
  }

  function reconcileNow(): Promise<void> {
    return serial(runReconcile);
  }

  /** Every intended decision through the guard again (after it changed). */
  function readmit(): void {
    if (!guard) return;
    for (const [target, e] of intended) {
      const a = guard.admit(target);
      if (a.outcome !== 'ok') {
        m.guardWithheld.inc({ reason: a.reason ?? 'unknown', outcome: a.outcome });
        log.warn(
          { target, outcome: a.outcome, reason: a.reason, pieces: a.pieces.length },
          `enforcer: block ${target} now overlaps the protected set (${a.detail}); ${a.outcome === 'held' ? 'removed: nothing of it is enforced' : `enforcing the ${a.pieces.length} pieces around it`}`,
        );
      }
      intended.set(target, { expiresAt: e.expiresAt, pieces: a.pieces.map((p) => ({ target: p, expiresAt: e.expiresAt })) });
    }
  }

  function protectedChanged(): Promise<void> {
    return serial(async () => {
      readmit();
      await runReconcile();
    });
  }

  async function pickDriver(): Promise<NftDriver> {
    if (deps.driver) return deps.driver;
    const nftDeps = { logger: log, metrics: deps.metrics, now };
    if (opts.dryRun) {
      log.info({ mode: 'dry-run', why: 'dryRun option set' }, 'enforcer: using the dry-run driver');
      return createDryRunDriver(opts.nft, nftDeps);
    }
    const avail = await nftAvailable({ netns: opts.nft.netns, nftPath: opts.nft.nftPath });
    if (!avail.ok) {
      log.warn({ mode: 'dry-run', why: avail.reason }, `enforcer: nftables unusable (${avail.reason}); using the dry-run driver`);
      return createDryRunDriver(opts.nft, nftDeps);
    }
    log.info({ mode: 'nft', netns: opts.nft.netns }, 'enforcer: using nftables');
    return createNftDriver(opts.nft, nftDeps);
  }

  async function loadStore(store: Store): Promise<Array<BusMessage<Decision>>> {
    const out: Array<BusMessage<Decision>> = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryDecisions({ activeAt: now(), cursor, limit: 1000 });
      for (const d of page.items) out.push({ key: d.target, value: d });
      cursor = page.next;
    } while (cursor);
    return out;
  }

  return {
    async start() {
      if (state !== 'new') return;
      state = 'starting';
      const d = await pickDriver();
      driver = d;
      await d.ensure();
      await purgeProtected(d);
      if (deps.store && state === 'starting') {
        const msgs = await loadStore(deps.store);
        await serial(() => applyIntent(absorb(msgs, now()), `store rebuild (${msgs.length} decisions)`));
        log.info({ decisions: msgs.length }, 'enforcer: rebuilt from the store');
      }
      if (state !== 'starting') return; // stopped while starting
      state = 'running';
      await deps.bus.subscribe<unknown>(TOPICS.decisions, { group: enforcerGroup(opts.node), fromBeginning: true }, async (batch) => {
        if (state !== 'running') return;
        await serial(() => applyIntent(absorb(batch.messages, now()), `bus batch p${batch.partition} (${batch.messages.length})`));
      });
      timer = setInterval(() => void reconcileNow().catch(() => undefined), opts.reconcileIntervalMs);
      timer.unref();
      updateGauges();
      log.info({ node: opts.node, mode: d.mode, reconcileIntervalMs: opts.reconcileIntervalMs }, 'enforcer started');
    },
    async stop() {
      if (state === 'stopped') return;
      const wasRunning = state !== 'new';
      state = 'stopped';
      if (timer) clearInterval(timer);
      if (wake) clearTimeout(wake);
      timer = undefined;
      wake = undefined;
      await queue;
      if (wasRunning && driver?.mode === 'dry-run') log.info({ node: opts.node, mode: 'dry-run' }, 'enforcer stopped (dry-run: nothing was applied to nftables)');
      else if (wasRunning) log.info({ node: opts.node, kept: mirror.length }, 'enforcer stopped; nft blocks stay until their timeouts');
    },
    health() {
      return {
        ok: state === 'running' && !failing,
        enforced: kernelEnforced(),
        intended: wanted().length,
        ...(driver?.mode === 'dry-run' ? { dryRunHeld: enforced } : {}),
        ...(lastReconcileAt !== undefined ? { lastReconcileAt } : {}),
        mode: driver?.mode ?? (opts.dryRun ? 'dry-run' : 'nft'),
      };
    },
    reconcileNow,
    protectedChanged,
  };
}
