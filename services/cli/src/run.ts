import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FloeConfig } from '@floe/config';
import type { FormatName } from '@floe/flow';
import { createBus, type Bus } from '@floe/bus';
import { createStore, type Store } from '@floe/store';
import { createRegistry, type Logger } from '@floe/telemetry';
import { conntrackAvailable, createCollector, type Collector, type CollectorSource } from '@floe/collector';
import { createPipeline, createProcessor, type Processor } from '@floe/processor';
import { createEnforcer } from '@floe/enforcer';
import { buildApp, startApi } from '@floe/api';
import { detectorsFor, loadCompiledPolicy, nodeAddresses, responderFor } from './components.js';
import { decisionLine, findingLine } from './format.js';

/** The bundled real capture `floe run` replays when it cannot read live conntrack events. */
export const BUNDLED_SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

/** Flags of `floe run` beyond the configuration file. */
export interface RunFlags {
  replay?: string;
  format: FormatName | 'auto';
  speed: number | 'max';
  /** Apply blocks in nftables even when replaying a capture (default: dry-run on replays). */
  enforce: boolean;
  /** Stop once the replay is processed (tests, batch use). */
  exitAfterReplay: boolean;
}

interface Component { name: string; stop(): Promise<void> }

/**
 * `floe run`: every role in one process on the embedded default (in-process bus, DuckDB).
 * Starts in dependency order (store, bus, enforcer, processor, api, collector) and stops in
 * reverse; a failing component stops everything and the promise rejects. Resolves when stopped
 * by a signal (or when the replay is done with exitAfterReplay).
 */
export async function runFloe(cfg: FloeConfig, flags: RunFlags, log: Logger, out: (line: string) => void): Promise<void> {
  const registry = createRegistry();
  const started: Component[] = [];
  let stopping: Promise<void> | undefined;
  let failure: Error | undefined;
  let wake!: () => void;
  const stopped = new Promise<void>((r) => { wake = r; });
  const stopAll = (why: string, err?: Error) => {
    if (err && !failure) failure = err;
    stopping ??= (async () => {
      log.info({ why }, 'stopping');
      for (const c of [...started].reverse()) {
        try { await c.stop(); } catch (e) { log.error({ component: c.name, err: (e as Error).message }, 'stop failed'); }
      }
      wake();
    })();
    return stopping;
  };
  const onSignal = (sig: string) => { void stopAll(`signal ${sig}`); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Sources first: decide what this run reads, and say it.
    const sources: CollectorSource[] = [];
    let replaying = false;
    if (flags.replay) {
      sources.push({ kind: 'replay', file: resolve(flags.replay), format: flags.format, speed: flags.speed });
      replaying = true;
      out(`source   replay ${flags.replay} (speed ${flags.speed})`);
    } else {
      const want = cfg.collector.conntrack.enabled;
      const avail = want === 'off' ? { ok: false, reason: 'collector.conntrack.enabled is off' } : conntrackAvailable(cfg.collector.conntrack.command);
      if (avail.ok) {
        sources.push({ kind: 'conntrack', command: cfg.collector.conntrack.command, netns: cfg.collector.conntrack.netns });
        out(`source   live conntrack events (${cfg.collector.conntrack.command} -E)${cfg.collector.conntrack.netns ? ` in netns ${cfg.collector.conntrack.netns}` : ''}`);
      } else if (want === 'on') {
        throw new Error(`live conntrack is required (collector.conntrack.enabled: on) but unavailable: ${avail.reason}`);
      } else {
        out(`source   live conntrack unavailable: ${avail.reason}`);
        out(`source   replaying the bundled sample capture instead: ${BUNDLED_SAMPLE}`);
        sources.push({ kind: 'replay', file: BUNDLED_SAMPLE, format: 'conntrack', speed: flags.speed });
        replaying = true;
      }
    }

    const nodeAddrs = nodeAddresses(cfg.enforcer.netns ?? cfg.collector.conntrack.netns);
    const policy = await loadCompiledPolicy(cfg, nodeAddrs);
    out(`policy   ${cfg.policyFile ?? 'embedded default'} (version ${policy.version})`);

    if (cfg.store.kind === 'duckdb' && cfg.store.path !== ':memory:') mkdirSync(dirname(resolve(cfg.store.path)), { recursive: true });
    const store: Store = createStore(cfg.store.kind === 'duckdb' ? { kind: 'duckdb', path: cfg.store.path } : { kind: 'clickhouse', url: cfg.store.url, database: cfg.store.database } as never);
    await store.start();
    started.push({ name: 'store', stop: () => store.stop() });

    const bus: Bus = createBus(cfg.bus.kind === 'memory' ? { kind: 'memory', partitions: cfg.bus.partitions } : { kind: 'kafka', brokers: [...cfg.bus.brokers] } as never);
    await bus.start();
    started.push({ name: 'bus', stop: () => bus.stop() });

    const dryRunEnforce = cfg.enforcer.dryRun || (replaying && !flags.enforce);
    const responder = responderFor(policy, nodeAddrs, {}, { metrics: registry, logger: log });
    const active = await store.queryDecisions({ activeAt: Date.now(), limit: 1000 });
    responder.seed(active.items);

    let enforcerHealth = (): Record<string, unknown> => ({ enabled: false });
    if (cfg.enforcer.enabled) {
      const enforcer = createEnforcer(
        { node: cfg.node, reconcileIntervalMs: cfg.enforcer.reconcileIntervalMs, dryRun: dryRunEnforce, nft: { table: cfg.enforcer.table, netns: cfg.enforcer.netns } },
        { bus, store, logger: log, metrics: registry },
      );
      await enforcer.start();
      started.push({ name: 'enforcer', stop: () => enforcer.stop() });
      enforcerHealth = () => enforcer.health() as unknown as Record<string, unknown>;
      const h = enforcer.health();
      out(`enforcer ${h.mode === 'nft' ? `nftables table inet ${cfg.enforcer.table}${cfg.enforcer.netns ? ` in netns ${cfg.enforcer.netns}` : ''}` : `dry-run${replaying && !flags.enforce && !cfg.enforcer.dryRun ? ' (replaying a capture; pass --enforce to apply blocks)' : ''}`}`);
    }

    const processor: Processor = createProcessor({ group: 'floe-processor', storeFlows: true }, {
      bus, store, responder, logger: log, metrics: registry,
      pipeline: createPipeline({ policy, detectors: detectorsFor(policy) }),
      onFinding: (f) => out(findingLine(f)),
      onDecision: (d) => out(decisionLine(d)),
    });
    await processor.start();
    started.push({ name: 'processor', stop: () => processor.stop() });

    let collector: Collector | undefined;
    if (cfg.api.enabled) {
      const app = buildApp({
        store, registry, logger: log.child({ component: 'api' }),
        health: () => {
          const c = collector?.health();
          const p = processor.health();
          return { ok: (c?.ok ?? true) && p.ok, node: cfg.node, collector: c, processor: p, enforcer: enforcerHealth() };
        },
        onManualBlock: async (req) => {
          const outcome = responder.manualBlock(req, Date.now());
          if (outcome.kind !== 'decision') throw Object.assign(new Error(`block of ${req.target} refused: ${outcome.kind === 'refused' ? outcome.cause : outcome.cause}`), { code: outcome.kind === 'refused' && outcome.cause === 'never-block' ? 'FLOE_RESPOND_NEVER_BLOCK' : 'FLOE_RESPOND_REFUSED' });
          const d = await processor.decisions.write(outcome);
          if (d) out(decisionLine(d));
          return d!;
        },
        onUnblock: (target, user) => processor.decisions.unblock(target, user, Date.now()),
      });
      const addr = await startApi(app, { host: cfg.api.host, port: cfg.api.port });
      started.push({ name: 'api', stop: () => app.close().then(() => undefined) });
      out(`api      ${addr}  (GET /v1/findings, /v1/decisions, /metrics, /healthz)`);
    }

    collector = createCollector({ node: cfg.node, sources, batchSize: cfg.collector.batchSize, flushMs: cfg.collector.flushMs }, {
      bus, logger: log, metrics: registry, onFailure: (e) => { void stopAll('collector failed', e); },
    });
    await collector.start();
    started.push({ name: 'collector', stop: () => collector!.stop() });

    if (replaying) {
      void collector.finished.then(async () => {
        const sent = collector!.health().sources.reduce((n, s) => n + s.flows, 0);
        while (processor.health().flows < sent && !stopping) await new Promise((r) => setTimeout(r, 20));
        const h = collector!.health();
        const p = processor.health();
        for (const s of h.sources) {
          const reasons = Object.entries(s.byReason).map(([k, v]) => `${k}=${v}`).join(' ');
          out(`summary  ${s.name}: ${s.flows} flows, ${s.rejected} rejected${reasons ? ` (${reasons})` : ''}`);
        }
        out(`summary  processed ${p.flows} flows, ${p.findings} findings, ${p.decisions} decisions`);
        if (flags.exitAfterReplay) await stopAll('replay done');
        else if (cfg.api.enabled) out(`ready    replay done; the API keeps serving until Ctrl-C. For live traffic run as root with conntrack installed: floe run`);
      }, () => undefined);
    }
  } catch (e) {
    await stopAll('start failed', e as Error);
    throw e;
  }
  await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (failure) throw failure;
}
