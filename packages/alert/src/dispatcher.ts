/**
 * The alert dispatcher: routes findings to sinks, groups and de-duplicates them, and hands each
 * notification to its sink's bounded queue (queue.ts). `notify` never waits: it is called on the
 * processor's path once a batch's outputs are safe.
 */
import { hostname as osHostname } from 'node:os';
import type { Finding } from '@floe/flow';
import { createRegistry, silentLogger, type Logger, type Registry } from '@floe/telemetry';
import { defaultAlertConfig, type AlertConfig } from './config.js';
import { createDeadLetterStore } from './deadletter.js';
import { AlertError } from './errors.js';
import { alertMetrics } from './metrics.js';
import { createSinkQueue, type SinkQueue, type SinkQueueHealth } from './queue.js';
import { compileRoute, groupKeyOf, repeatKeyOf, routeMatches, type CompiledRoute } from './route.js';
import { createSink } from './sinks/index.js';
import type { Notification, Sink } from './types.js';

/** A suppression check (A2's rules): true or `{ ruleId }` when the finding must not alert. */
export type SuppressFn = (f: Finding) => boolean | { ruleId: string } | undefined;

/** What the dispatcher is built with. */
export interface AlertDispatcherDeps {
  logger?: Logger;
  metrics?: Registry;
  /** Wall clock (ms since epoch). */
  now?: () => number;
  /** floe's version (CEF Device Version). */
  version?: string;
  /** Host name in syslog headers (default: the node name, else the OS host name). */
  hostname?: string;
  /** Suppression rules: a suppressed finding is not routed, and counted (floe_alert_suppressed_total{rule}). */
  suppress?: SuppressFn;
  /** Sinks by name instead of building them from `config.sinks` (tests, embedding). */
  sinks?: Record<string, Sink>;
}

/** The phase of a finding as its detector emitted it: the first form, a fuller one, or the final one (its window closed). */
export type FindingPhase = 'new' | 'update' | 'final';

/** Health of the dispatcher: per sink, what is queued, whether it is down, dead letters pending. */
export interface AlertHealth {
  ok: boolean;
  sinks: Record<string, SinkQueueHealth>;
}

/** The dispatcher. */
export interface AlertDispatcher {
  /** Loads the dead-letter file and starts the timers. Safe twice. */
  start(): Promise<void>;
  /** Sends what groups still hold, waits up to drainTimeoutMs for the queues, dead-letters the rest, closes the sinks. Safe twice and before start. */
  stop(): Promise<void>;
  /** Routes a finding (any form of it). Never waits, never throws for a sink's sake. */
  notify(f: Finding, phase?: FindingPhase): void;
  /** The finding's episode is over (resolved by an analyst, or its final form seen elsewhere): Alertmanager alerts get endsAt. */
  resolve(findingId: string): void;
  /** Sends every group's pending findings now (end of a replay) instead of at their group's time. */
  flush(): void;
  health(): AlertHealth;
}

interface Group {
  route: CompiledRoute;
  key: string;
  pending: Map<string, Finding>;
  /** Repeat key → when it was last notified. */
  notified: Map<string, number>;
  lastFlushAt?: number;
  timer?: NodeJS.Timeout;
}

/**
 * A dispatcher over the `alert` configuration section. Builds the sinks (reads their secret and
 * TLS files; no network I/O until start).
 * @throws AlertError FLOE_ALERT_BAD_CONFIG when a route names a sink that is not configured, or a
 *   sink's secret or TLS file is missing or unreadable.
 */
export function createAlertDispatcher(config: Partial<AlertConfig>, deps: AlertDispatcherDeps = {}): AlertDispatcher {
  const cfg: AlertConfig = { ...defaultAlertConfig(), ...config };
  const log = (deps.logger ?? silentLogger()).child({ component: 'alert' });
  const m = alertMetrics(deps.metrics ?? createRegistry({ defaultMetrics: false }));
  const now = deps.now ?? Date.now;
  const sinkNames = new Set(Object.keys(deps.sinks ?? cfg.sinks));
  const routes = cfg.routes.map((r, i) => compileRoute(r, i, cfg));
  for (const r of routes)
    for (const s of r.sinks)
      if (!sinkNames.has(s)) throw new AlertError('FLOE_ALERT_BAD_CONFIG', `alert.routes: route ${r.name} names sink ${JSON.stringify(s)}, which alert.sinks does not define`);
  const suppressed = m.suppressed;
  const dl = createDeadLetterStore(cfg.deadLetter.file);
  dl.overflowed((l) => m.dropped.inc({ sink: l.sink, cause: 'dead-letter-full' }));
  const groups = new Map<string, Group>();
  // The sinks are built here (their secret and TLS files read), so a mistake in them is a
  // configuration error at composition (exit 2), not a failure after other components started.
  const sinks = new Map<string, Sink>();
  const host = deps.hostname ?? osHostname();
  for (const name of sinkNames) sinks.set(name, deps.sinks?.[name] ?? createSink(name, cfg.sinks[name], { hostname: host, version: deps.version ?? '0.1.0', now, timing: cfg }));
  const queues = new Map<string, SinkQueue>();
  let ticker: NodeJS.Timeout | undefined;
  let prober: NodeJS.Timeout | undefined;
  let started: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const send = (g: Group) => {
    g.timer = undefined;
    if (g.pending.size === 0) return;
    const at = now();
    const n: Notification = { route: g.route.name, groupKey: g.key, status: 'firing', findings: [...g.pending.values()], at };
    for (const k of g.pending.keys()) g.notified.set(k, at);
    g.pending.clear();
    g.lastFlushAt = at;
    for (const s of g.route.sinks) queues.get(s)?.push(n);
  };

  const schedule = (g: Group) => {
    if (g.timer || stopping) return;
    const at = now();
    const due = g.lastFlushAt === undefined ? at + g.route.groupWaitMs : Math.max(at, g.lastFlushAt + g.route.groupIntervalMs);
    g.timer = setTimeout(() => send(g), due - at);
    g.timer.unref?.();
  };

  /** Groups with nothing pending whose interval passed long ago are forgotten. */
  const sweep = (at: number) => {
    for (const [k, g] of groups) {
      for (const [rk, t] of g.notified) if (at - t >= g.route.groupIntervalMs) g.notified.delete(rk);
      if (!g.timer && g.pending.size === 0 && g.notified.size === 0) groups.delete(k);
    }
  };

  return {
    start() {
      started ??= (async () => {
        const loaded = dl.load();
        for (const [name, sink] of sinks) queues.set(name, createSinkQueue(sink, cfg, { metrics: m, logger: log, deadLetters: dl, now }));
        if (loaded) log.info({ deadLetters: loaded }, 'alert dead letters loaded for redelivery');
        ticker = setInterval(
          () => {
            const at = now();
            for (const [name, sink] of sinks) {
              const q = queues.get(name);
              // a down sink's re-sends would only pile up as dead letters: its ticks wait until it is back
              if (!q || q.health().down) continue;
              for (const n of sink.tick?.(at) ?? []) q.push(n);
            }
            sweep(at);
          },
          Math.min(1000, cfg.resendIntervalMs),
        );
        ticker.unref?.();
        const probe = () => {
          for (const q of queues.values()) void q.probe();
        };
        prober = setInterval(probe, cfg.deadLetter.probeIntervalMs);
        prober.unref?.();
        if (loaded) probe();
        log.info({ sinks: [...sinkNames], routes: routes.map((r) => r.name) }, 'alerting started');
      })();
      return started;
    },
    stop() {
      stopping ??= (async () => {
        if (started) await started.catch(() => undefined);
        clearInterval(ticker);
        clearInterval(prober);
        for (const g of groups.values()) {
          clearTimeout(g.timer);
          send(g);
        }
        await Promise.all([...queues.values()].map((q) => q.stop(cfg.drainTimeoutMs)));
        log.info({ sinks: Object.fromEntries([...queues].map(([k, q]) => [k, q.health()])) }, 'alerting stopped');
      })();
      return stopping;
    },
    notify(f, phase) {
      if (!started || stopping) return;
      const s = deps.suppress?.(f);
      if (s) {
        suppressed.inc({ rule: typeof s === 'object' ? s.ruleId : 'suppressed' });
        return;
      }
      const at = now();
      for (const r of routes) {
        if (!routeMatches(r, f)) continue;
        for (const name of r.sinks) sinks.get(name)?.track?.(f, at);
        if (phase === 'final') for (const name of r.sinks) sinks.get(name)?.end?.(f.id, at);
        const key = `${r.name}\n${groupKeyOf(r, f)}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { route: r, key: groupKeyOf(r, f), pending: new Map(), notified: new Map() }));
        const rk = repeatKeyOf(f);
        const last = g.notified.get(rk);
        if (last !== undefined && at - last < r.groupIntervalMs) {
          m.skipped.inc({ route: r.name, cause: 'repeat' });
          continue;
        }
        if (g.pending.has(rk)) m.skipped.inc({ route: r.name, cause: 'repeat' });
        g.pending.set(rk, f); // the latest form goes out
        schedule(g);
      }
    },
    resolve(findingId) {
      const at = now();
      for (const sink of sinks.values()) sink.end?.(findingId, at);
    },
    flush() {
      for (const g of groups.values()) {
        clearTimeout(g.timer);
        send(g);
      }
    },
    health() {
      const out: Record<string, SinkQueueHealth> = {};
      for (const [k, q] of queues) out[k] = q.health();
      return { ok: true, sinks: out };
    },
  };
}
