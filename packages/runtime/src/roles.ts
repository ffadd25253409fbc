import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FloeConfig } from '@floe/config';
import { detectFile, escapeText, readFailure, unreadableFormatMessage, type Decision, type Finding, type FormatName } from '@floe/flow';
import { createBus, type Bus } from '@floe/bus';
import { createStore, type Store } from '@floe/store';
import { loadInventoryFile, type CompiledPolicy } from '@floe/policy';
import { createReportScheduler, openReportArchive } from '@floe/report';
import type { Detector } from '@floe/detect';
import { createDecisionWriter, createSuppressor, type LiveProtectedSet, type ProtectedSet, type Responder, type ResponseOutcome, type Suppressor } from '@floe/respond';
import type { Logger, Registry } from '@floe/telemetry';
import { createAlertDispatcher, type AlertDispatcher, type SuppressFn } from '@floe/alert';
import { crdComponent, createPolicySlot, splitRuntimeNeverBlock } from './crds.js';
import type { Component, ComponentHealth } from './lifecycle.js';
import { busConfigOf, detectorsFor, liveProtectedSetFor, loadCompiledPolicy, nodeAddresses, responderFor, storeConfigOf } from './wiring.js';
import { createTriageSync, type TriageSync } from './triage-sync.js';
import { adapterDeps } from './wiring.js';

/** The four roles of floe (ARCHITECTURE.md, "The data path"). */
export type Role = 'collector' | 'processor' | 'enforcer' | 'api';

/** Every role, in start order after the shared store and bus. */
export const ROLES: readonly Role[] = Object.freeze(['enforcer', 'processor', 'api', 'collector'] as Role[]);

/** Capability flags (STYLE.md pattern 4): which roles this process runs. `floe run` enables all. */
export type RoleSet = Readonly<Record<Role, boolean>>;

/** A RoleSet with exactly `roles` enabled. */
export function rolesOf(...roles: Role[]): RoleSet {
  return Object.freeze({ collector: roles.includes('collector'), processor: roles.includes('processor'), enforcer: roles.includes('enforcer'), api: roles.includes('api') });
}

/** What a composition gets from the process that runs it (see runService). */
export interface ServiceContext {
  cfg: FloeConfig;
  logger: Logger;
  registry: Registry;
  /** A component failed after start: the whole process stops and exits non-zero. */
  fail(component: string, err: Error): void;
  /** Ends the process cleanly (exit 0), e.g. when a replay is done. */
  stop(reason: string): void;
}

/** A collector source: live `conntrack -E`, or a capture file replayed at `speed` (1 = as recorded). */
export type CollectorSourceSpec =
  | { kind: 'conntrack'; command: string; netns?: string; bufferBytes?: number }
  | { kind: 'replay'; file: string; format: FormatName | 'auto'; speed: number | 'max' };

/** The shape of @floe/collector's collector, as the composition uses it. */
export interface CollectorLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly finished: Promise<void>;
  health(): { ok: boolean; sources: Array<{ name: string; flows: number; rejected: number; byReason: Record<string, number> }> };
}

/** @floe/respond's DecisionWriter as the composition uses it: store first, then the compacted decisions topic. */
export interface DecisionWriterLike {
  write(outcome: ResponseOutcome): Promise<Decision | undefined>;
  unblock(target: string, user: string, nowMs: number): Promise<boolean>;
}

/** The shape of @floe/pipeline's processor. `stop()` drains in-flight batches and commits them. */
export interface ProcessorLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly decisions: DecisionWriterLike;
  /** End of input (a replay fully processed): the final form of every open detector finding goes through the outputs. */
  flush(): Promise<void>;
  /** `ok` turns false once its consumer died. */
  health(): { ok: boolean; flows: number; findings: number; decisions: number; deadLetters?: number };
}

/** The shape of @floe/enforcer's enforcer. */
export interface EnforcerLike {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): { ok: boolean; mode: 'nft' | 'dry-run' };
  /** The guard changed (a run-time never-block entry): re-check every block and reconcile now. */
  protectedChanged?(): Promise<void>;
}

/** A manual block as the API hands it over. */
export interface ManualBlock {
  target: string;
  durationMs?: number;
  reason: string;
  user: string;
}

/** @floe/api's manual block and unblock handlers (its createDecisionHandlers maps the responder's outcomes to HTTP). */
export interface ApiDecisionHandlers {
  onManualBlock: (req: ManualBlock) => Promise<{ decision: Decision; change: 'create' | 'extend' }>;
  onUnblock: (target: string, user: string) => Promise<boolean>;
  /** Extends an active block through the responder (PATCH /v1/decisions/:target). */
  onExtend?: (req: ManualBlock) => Promise<Decision>;
}

/** What @floe/api's buildApp needs from the composition. */
export interface ApiAppDeps extends ApiDecisionHandlers {
  store: Store;
  registry: Registry;
  logger?: Logger;
  health: () => Record<string, unknown> & { ok: boolean };
  /** The shared bearer token (api.token); see the kit's resolveApiToken. */
  token?: string;
  /**
   * Called after the API changed the never-block list or the suppression rules in the store:
   * this process applies them at once (the triage sync's refresh).
   */
  onTriageChange?: () => Promise<void>;
  /** The policy's `respond.neverBlock` (listed by GET /v1/never-block next to the run-time entries). */
  policyNeverBlock?: readonly string[];
  /** Folder of kept compliance reports (report.dir), served by GET /v1/reports. */
  reports?: string;
  /** Authentication, roles and rate limits (@floe/api SecurityOptions), from the kit's resolveApiSecurity. */
  security?: object;
  /** HTTPS certificate and key (api.tls). */
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * The role implementations, handed in by the caller: the services depend on @floe/runtime, not
 * the reverse, so each role main passes its own factories and `floe run` passes all of them.
 * `P` is the processor's pipeline type, `A` the API's app type (both opaque here).
 */
export interface RoleKit<P = unknown, A extends { close(): PromiseLike<unknown> } = { close(): PromiseLike<unknown> }> {
  collector?: {
    createCollector(
      opts: { node: string; sources: CollectorSourceSpec[]; batchSize: number; flushMs: number; maxLineBytes?: number; silentAfterMs?: number },
      deps: { bus: Bus; logger?: Logger; metrics?: Registry; onFailure?: (e: Error) => void },
    ): CollectorLike;
    conntrackAvailable(command: string): { ok: boolean; reason?: string };
  };
  processor?: {
    createPipeline(deps: { policy: CompiledPolicy; detectors: Detector[]; scorers?: unknown[]; enricher?: unknown }): P;
    /**
     * The async scorers the policy asks for (the ML detector when `detectors.model.dir` names a
     * model: @floe/model `scorersFromPolicy`); absent: none. A rejection stops the start.
     */
    loadScorers?(policy: CompiledPolicy, deps: { logger?: Logger; metrics?: Registry }): Promise<unknown[]>;
    /**
     * The flow enricher the configuration asks for (Kubernetes enrichment when `kube.enabled`:
     * @floe/kube `kubeEnricherFor`), inert: `start()` syncs its caches (a component started before
     * the processor), `stop()` ends its watches. Undefined: none.
     */
    loadEnricher?(cfg: FloeConfig, policy: CompiledPolicy, deps: { logger?: Logger; metrics?: Registry }): { enricher: unknown; start(): Promise<void>; stop(): void } | undefined;
    createProcessor(
      opts: { group: string; storeFlows: boolean },
      deps: {
        bus: Bus;
        store: Store;
        pipeline: P;
        responder: Responder;
        logger?: Logger;
        metrics?: Registry;
        onFinding?: (f: Finding) => void;
        onDecision?: (d: Decision, f: Finding) => void;
        /** The consumer died: the composition stops the process (ServiceContext.fail, exit 1). */
        onFailure?: (err: Error) => void;
      },
    ): ProcessorLike;
  };
  enforcer?: {
    createEnforcer(
      opts: { node: string; reconcileIntervalMs: number; dryRun: boolean; nft: { table: string; netns?: string } },
      deps: { bus: Bus; store?: Store; logger?: Logger; metrics?: Registry; guard?: ProtectedSet },
    ): EnforcerLike;
  };
  api?: {
    buildApp(deps: ApiAppDeps): A;
    startApi(app: A, listen: { host: string; port: number }): Promise<string>;
    /**
     * The API's bearer token from `api.token` / `api.tokenFile`, and the exposure check.
     * @throws Error FLOE_CONFIG_API_TOKEN / FLOE_CONFIG_API_UNAUTHENTICATED (exit 2).
     */
    resolveApiToken(api: FloeConfig['api']): string | undefined;
    /**
     * Roles, OIDC, rate limits and TLS from `api.*` (given the shared token).
     * @throws Error FLOE_CONFIG_API_TLS / FLOE_CONFIG_API_OIDC (exit 2).
     */
    resolveApiSecurity?(api: FloeConfig['api'], token: string | undefined): { security?: object; tls?: { cert: Buffer; key: Buffer } };
    /** Manual block and unblock over the responder and the decision writer. */
    createDecisionHandlers(deps: { responder: Responder; writer: DecisionWriterLike; store: Store; onDecision?: (d: Decision) => void }): ApiDecisionHandlers;
  };
}

/**
 * Refuses a replay file before anything starts: it must be a readable regular file, and with
 * format 'auto' its first lines must be of a format floe reads.
 * @throws Error with code FLOE_CONFIG_BAD_REPLAY, or FlowFormatError FLOE_FLOW_UNKNOWN_FORMAT.
 */
function checkReplayFile(file: string, format: FormatName | 'auto', maxLineBytes?: number): void {
  // The file name is input: escaped (escapeText) before it can reach a terminal.
  const bad = (why: string) => Object.assign(new Error(`replay ${escapeText(file)}: ${why}`), { code: 'FLOE_CONFIG_BAD_REPLAY' });
  // Opened (non-blocking: a FIFO does not hang) and closed again: permissions as the kernel judges them.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw bad(readFailure(e));
  }
  try {
    if (!fstatSync(fd).isFile()) throw bad('not a regular file');
  } finally {
    closeSync(fd);
  }
  if (format !== 'auto') return;
  // The same line reader and detection as the replay itself (BOM, CR, over-long lines skipped).
  const d = detectFile(file, { maxLineBytes });
  if (d.format !== undefined) return;
  if (d.empty) throw bad('empty file');
  throw Object.assign(new Error(`replay ${escapeText(unreadableFormatMessage(file, d.foreign))}`), { code: 'FLOE_CONFIG_BAD_REPLAY' });
}

/** Options of one composition beyond the configuration (`floe run` flags). */
export interface ComposeOptions {
  /** Replay this capture instead of the configured source (`floe run --replay`). */
  replay?: { file: string; format: FormatName | 'auto'; speed: number | 'max' };
  /** Under `collector.conntrack.enabled: auto`, replay this file when live conntrack is unavailable (absent: fail). */
  fallbackReplay?: { file: string; speed: number | 'max' };
  /** Apply blocks in nftables even when this process replays a capture (default: dry-run on replays). */
  enforceReplays?: boolean;
  /** Stop cleanly once the replay is published (and processed, when the processor runs here). */
  exitAfterReplay?: boolean;
  /** Progress lines for a person (`floe run` prints them on stdout); default: logged at info. */
  out?: (line: string) => void;
  onFinding?: (f: Finding) => void;
  onDecision?: (d: Decision) => void;
  /**
   * Suppression rules the alert dispatcher consults (a suppressed finding is not alerted, and
   * counted); default: the suppressor the responder asks (the store's rules, kept in sync).
   */
  alertSuppress?: SuppressFn;
}

/**
 * Builds the components of the enabled roles on one configuration: ONE composition for `floe
 * run` (all roles) and each role main (one role). Inert apart from reading the policy and
 * checking for conntrack; returns, in start order: store (when processor, api, or an enforcer on
 * ClickHouse needs it), bus, responder seeding, enforcer, processor, api, collector, replay
 * watcher. Stop runs in reverse, so the collector stops reading and flushes first and the store
 * closes last.
 * @throws Error when a role is enabled but missing from `kit`, when live conntrack is required
 *   and unavailable, or the policy's errors (FLOE_POLICY_…).
 */
export async function composeRoles<P, A extends { close(): PromiseLike<unknown> }>(
  ctx: ServiceContext,
  roles: RoleSet,
  kit: RoleKit<P, A>,
  opts: ComposeOptions = {},
): Promise<Component[]> {
  const { cfg, registry } = ctx;
  const log = ctx.logger;
  const out = opts.out ?? ((line: string) => log.info(line));
  const components: Component[] = [];
  const need = <K extends keyof RoleKit>(k: K, role: Role): NonNullable<RoleKit<P, A>[K]> => {
    const v = kit[k];
    if (!v) throw new Error(`role ${role} is enabled but its implementation (${String(k)}) was not provided`);
    return v as NonNullable<RoleKit<P, A>[K]>;
  };

  // The API's token and exposure check, before anything is built (a refusal exits 2).
  const apiToken = roles.api && cfg.api.enabled ? need('api', 'api').resolveApiToken(cfg.api) : undefined;
  const apiSecurity = roles.api && cfg.api.enabled ? need('api', 'api').resolveApiSecurity?.(cfg.api, apiToken) : undefined;

  // Sources first: decide what this process reads, and say it.
  const sources: CollectorSourceSpec[] = [];
  let replaying = false;
  if (roles.collector) {
    const c = need('collector', 'collector');
    const configured = cfg.collector.replay.file
      ? { file: cfg.collector.replay.file, format: cfg.collector.replay.format, speed: cfg.collector.replay.speed === 0 ? ('max' as const) : cfg.collector.replay.speed }
      : undefined;
    const replay = opts.replay ?? configured;
    if (replay) {
      checkReplayFile(replay.file, replay.format, cfg.collector.maxLineBytes);
      sources.push({ kind: 'replay', file: resolve(replay.file), format: replay.format, speed: replay.speed });
      replaying = true;
      out(`source   replay ${escapeText(replay.file)} (speed ${replay.speed})`);
    } else {
      const want = cfg.collector.conntrack.enabled;
      const avail = want === 'off' ? { ok: false, reason: 'collector.conntrack.enabled is off' } : c.conntrackAvailable(cfg.collector.conntrack.command);
      if (avail.ok) {
        sources.push({ kind: 'conntrack', command: cfg.collector.conntrack.command, netns: cfg.collector.conntrack.netns, bufferBytes: cfg.collector.conntrack.bufferBytes });
        out(
          `source   live conntrack events (${cfg.collector.conntrack.command} -E)${cfg.collector.conntrack.netns ? ` in netns ${escapeText(cfg.collector.conntrack.netns)}` : ''}`,
        );
      } else if (want === 'on' || !opts.fallbackReplay) {
        throw new Error(
          `live conntrack is required${want === 'on' ? ' (collector.conntrack.enabled: on)' : ' (no collector.replay.file is set)'} but unavailable: ${avail.reason}`,
        );
      } else {
        out(`source   live conntrack unavailable: ${escapeText(String(avail.reason))}`);
        out(`source   replaying the bundled sample capture instead: ${escapeText(opts.fallbackReplay.file)}`);
        sources.push({ kind: 'replay', file: opts.fallbackReplay.file, format: 'conntrack', speed: opts.fallbackReplay.speed });
        replaying = true;
      }
    }
  }

  const decides = roles.processor || roles.api;
  const netns = cfg.enforcer.netns ?? cfg.collector.conntrack.netns;
  let nodeAddrs: string[] = [];
  // the enforcer needs the policy too: its protected set (never-block, node and control-plane networks)
  const needsPolicy = decides || (roles.enforcer && cfg.enforcer.enabled);
  if (needsPolicy || netns) {
    try {
      nodeAddrs = nodeAddresses(netns);
    } catch (e) {
      throw Object.assign(new Error((e as Error).message), { code: 'FLOE_CONFIG_BAD_NETNS' });
    }
  }
  let policy: CompiledPolicy | undefined;
  if (needsPolicy) {
    policy = await loadCompiledPolicy(cfg, nodeAddrs);
    out(`policy   ${cfg.policyFile === undefined ? 'embedded default' : escapeText(cfg.policyFile)} (version ${policy.version})`);
  }

  // One protected set for the responder and the enforcer: run-time never-block entries (issue 8)
  // reach both at once.
  const guard: LiveProtectedSet | undefined = needsPolicy ? liveProtectedSetFor(policy!, nodeAddrs) : undefined;
  // processor.crds writes run-time never-block entries too (FloeNeverBlock objects): each writer replaces only its part
  const split = guard && roles.processor && cfg.processor.crds.enabled ? splitRuntimeNeverBlock(guard) : undefined;
  const suppressor: Suppressor | undefined = decides ? createSuppressor([], { metrics: registry }) : undefined;

  const clientId = `floe-${(Object.keys(roles) as Role[]).filter((r) => roles[r]).join('-')}`;
  let store: Store | undefined;
  if (decides || (roles.enforcer && cfg.store.kind === 'clickhouse')) {
    const s = createStore(storeConfigOf(cfg), adapterDeps(ctx));
    store = s;
    components.push({ name: 'store', start: () => s.start(), stop: () => s.stop() });
  }
  const bus = createBus(busConfigOf(cfg, clientId), adapterDeps(ctx));
  components.push({ name: 'bus', start: () => bus.start(), stop: () => bus.stop() });

  // The run-time never-block list and the suppression rules: loaded from the store before the
  // responder seeds and the enforcer rebuilds, re-read every few seconds (another process's API
  // may change them), and at once after this process's API did.
  let sync: TriageSync | undefined;
  if (store && (guard || suppressor)) {
    // the enforcer (built below) re-checks its blocks before a never-block change is answered
    sync = createTriageSync({
      store,
      guard: split?.api ?? guard,
      suppressor,
      logger: log,
      intervalMs: cfg.triage.syncIntervalMs,
      onNeverBlockChanged: async () => enforcer?.protectedChanged?.(),
    });
    components.push(sync);
  }

  // A replay in this process is a demonstration unless --enforce: its decisions are stored as
  // dry-run ones, so a later live run on the same store never applies them.
  const replayDryRun = replaying && !opts.enforceReplays && roles.enforcer;
  let responder: Responder | undefined;
  if (decides) {
    const r = responderFor(policy!, nodeAddrs, replayDryRun ? { dryRun: true } : {}, { metrics: registry, logger: log, guard, suppressor });
    responder = r;
    const dry = replayDryRun || policy!.policy.respond.dryRun;
    const st = store!;
    components.push({
      name: 'responder',
      async start() {
        // a dry-run decision (a demo replay) does not stand for a block in an enforcing run
        const active = (await st.queryDecisions({ activeAt: Date.now(), limit: 1000 })).items;
        r.seed(dry ? active : active.filter((d) => !d.dryRun));
      },
      async stop() {
        /* state only */
      },
    });
  }

  let enforcer: EnforcerLike | undefined;
  if (roles.enforcer && cfg.enforcer.enabled) {
    const dryRun = cfg.enforcer.dryRun || (replaying && !opts.enforceReplays);
    const e = need('enforcer', 'enforcer').createEnforcer(
      { node: cfg.node, reconcileIntervalMs: cfg.enforcer.reconcileIntervalMs, dryRun, nft: { table: cfg.enforcer.table, netns: cfg.enforcer.netns } },
      { bus, store, logger: log, metrics: registry, guard },
    );
    enforcer = e;

    components.push({
      name: 'enforcer',
      async start() {
        await e.start();
        const h = e.health();
        out(
          `enforcer ${h.mode === 'nft' ? `nftables table inet ${cfg.enforcer.table}${cfg.enforcer.netns ? ` in netns ${escapeText(cfg.enforcer.netns)}` : ''}` : `dry-run${replaying && !opts.enforceReplays && !cfg.enforcer.dryRun ? ' (replaying a capture; pass --enforce to apply blocks)' : ''}`}`,
        );
      },
      stop: () => e.stop(),
      health: () => e.health() as unknown as ComponentHealth,
    });
  } else if (roles.enforcer) {
    out('enforcer disabled (enforcer.enabled: false)');
  }

  // Alerting (@floe/alert) with the processor: before it in start order, so it stops after the
  // processor has written its final findings, and sends what its groups still hold.
  let alerts: AlertDispatcher | undefined;
  if (roles.processor && cfg.alert.enabled && cfg.alert.routes.length > 0) {
    const a = createAlertDispatcher(cfg.alert, {
      logger: log,
      metrics: registry,
      hostname: cfg.node,
      suppress: opts.alertSuppress ?? (suppressor ? (f) => suppressor.check(f) : undefined),
    });
    alerts = a;
    components.push({
      name: 'alert',
      async start() {
        await a.start();
        out(`alerts   ${cfg.alert.routes.length} route(s) to ${Object.keys(cfg.alert.sinks).map(escapeText).join(', ')}`);
      },
      stop: () => a.stop(),
      health: () => a.health() as unknown as ComponentHealth,
    });
  }
  const onFinding =
    alerts || opts.onFinding
      ? (f: Finding) => {
          alerts?.notify(f);
          opts.onFinding?.(f);
        }
      : undefined;

  let processor: ProcessorLike | undefined;
  if (roles.processor) {
    const k = need('processor', 'processor');
    // processor.crds: the pipeline reads the policy through a slot the FloePolicy watcher swaps (crds.ts)
    const slot = createPolicySlot(policy!);
    const detectors = detectorsFor(policy!, { metrics: registry });
    if (cfg.processor.crds.enabled) {
      const inventory = cfg.inventoryFile ? await loadInventoryFile(cfg.inventoryFile) : undefined;
      const c = crdComponent(
        cfg.processor.crds,
        { slot, base: policy!, detectors, setNeverBlock: (e) => split?.setCrd(e), inventory, nodeAddrs, metrics: registry },
        { logger: log, out },
      );
      components.push(c);
    }
    const kube = k.loadEnricher?.(cfg, policy!, { logger: log, metrics: registry });
    if (kube) {
      components.push({ name: 'kube', start: () => kube.start(), stop: async () => kube.stop() });
      out('kube     enrichment from the Kubernetes API (pods, Services, nodes, namespaces, NetworkPolicies)');
    }
    const p = k.createProcessor(
      { group: cfg.processor.group, storeFlows: cfg.processor.storeFlows },
      {
        bus,
        store: store!,
        responder: responder!,
        logger: log,
        metrics: registry,
        pipeline: k.createPipeline({
          policy: slot.view,
          detectors,
          scorers: k.loadScorers ? await k.loadScorers(policy!, { logger: log, metrics: registry }) : [],
          enricher: kube?.enricher,
        }),
        onFinding,
        onDecision: opts.onDecision ? (d) => opts.onDecision!(d) : undefined,
        onFailure: (e) => ctx.fail('processor', e),
      },
    );
    processor = p;
    components.push({ name: 'processor', start: () => p.start(), stop: () => p.stop(), health: () => p.health() as unknown as ComponentHealth });
  }

  let collector: CollectorLike | undefined;
  if (roles.api && cfg.api.enabled) {
    const k = need('api', 'api');
    const writer: DecisionWriterLike = processor?.decisions ?? createDecisionWriter({ store: store!, bus, responder: responder! });
    const app = k.buildApp({
      store: store!,
      registry,
      logger: log.child({ component: 'api' }),
      token: apiToken,
      reports: cfg.report.dir,
      ...apiSecurity,
      health: () => {
        const parts: Record<string, ComponentHealth | undefined> = {
          collector: collector?.health() as ComponentHealth | undefined,
          processor: processor?.health() as unknown as ComponentHealth | undefined,
          enforcer: enforcer ? (enforcer.health() as unknown as ComponentHealth) : { ok: true, enabled: false },
        };
        return { ok: Object.values(parts).every((h) => h?.ok ?? true), node: cfg.node, ...parts };
      },
      ...k.createDecisionHandlers({ responder: responder!, writer, store: store!, onDecision: opts.onDecision }),
      onTriageChange: sync ? () => sync.refresh() : undefined,
      policyNeverBlock: policy?.policy.respond.neverBlock,
    });
    let listening = false;
    components.push({
      name: 'api',
      async start() {
        const addr = await k.startApi(app, { host: cfg.api.host, port: cfg.api.port });
        listening = true;
        out(`api      ${addr}  (GET /v1/findings, /v1/decisions, /v1/gaps, /v1/reports, /v1/audit, /metrics, /healthz; OpenAPI: /openapi.json, /docs)`);
      },
      async stop() {
        await app.close();
      },
      health: () => ({ ok: listening }),
    });
  }

  // scheduled compliance reports (report.schedules): made by the api role, kept in report.dir
  if (roles.api && cfg.report.schedules.length > 0) {
    const scheduler = createReportScheduler(cfg.report.schedules, {
      store: store!,
      policy: policy!,
      archive: openReportArchive(cfg.report.dir),
      cluster: cfg.report.cluster,
      logger: log,
      metrics: registry,
    });
    components.push({
      name: 'report-scheduler',
      start: async () => {
        scheduler.start();
        out(`reports  ${cfg.report.schedules.map((x) => x.name).join(', ')} -> ${escapeText(cfg.report.dir)}`);
      },
      stop: () => scheduler.stop(),
    });
  }

  if (roles.collector) {
    const c = need('collector', 'collector').createCollector(
      {
        node: cfg.node,
        sources,
        batchSize: cfg.collector.batchSize,
        flushMs: cfg.collector.flushMs,
        maxLineBytes: cfg.collector.maxLineBytes,
        silentAfterMs: cfg.collector.silentAfterMs,
      },
      {
        bus,
        logger: log,
        metrics: registry,
        onFailure: (e) => ctx.fail('collector', e),
      },
    );
    collector = c;
    components.push({ name: 'collector', start: () => c.start(), stop: () => c.stop(), health: () => c.health() as unknown as ComponentHealth });

    const exitWhenDone = opts.exitAfterReplay ?? cfg.collector.replay.exitWhenDone;
    if (replaying) {
      let cancelled = false;
      components.push({
        name: 'replay',
        async start() {
          void c.finished.then(
            async () => {
              const sent = c.health().sources.reduce((n, s) => n + s.flows, 0);
              while (processor && processor.health().flows < sent && !cancelled) await new Promise((r) => setTimeout(r, 20));
              if (cancelled) return;
              // the replay is the whole input: its findings' final counts, not those at the last doubling
              await processor?.flush();
              alerts?.flush(); // the replay's alerts leave now, not at their group's time
              for (const s of c.health().sources) {
                const reasons = Object.entries(s.byReason)
                  .map(([k, v]) => `${escapeText(k.slice(0, 80))}=${v}`)
                  .join(' ');
                out(`summary  ${escapeText(s.name)}: ${s.flows} flows, ${s.rejected} rejected${reasons ? ` (${reasons})` : ''}`);
              }
              if (processor) {
                const p = processor.health();
                out(`summary  processed ${p.flows} flows, ${p.findings} findings, ${p.decisions} decisions`);
              }
              if (exitWhenDone) ctx.stop('replay done');
              else if (roles.api && cfg.api.enabled && roles.processor)
                out('ready    replay done; the API keeps serving until Ctrl-C. For live traffic run as root with conntrack installed: floe run');
            },
            () => undefined,
          );
        },
        async stop() {
          cancelled = true;
        },
      });
    }
  }
  return components;
}
