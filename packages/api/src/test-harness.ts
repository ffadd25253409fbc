/**
 * Test support (not part of the API): the API over the REAL components — the responder
 * (@floe/respond), the decision writer, an in-process bus and DuckDB in memory — wired the way
 * @floe/runtime's composition wires them (createDecisionHandlers), so the tests exercise the real
 * outcome-to-HTTP mapping.
 */
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { createMemoryBus, type Bus } from '@floe/bus';
import {
  createDecisionWriter,
  createLiveProtectedSet,
  createResponder,
  createSuppressor,
  defaultResponderOptions,
  type LiveProtectedSet,
  type Responder,
  type ResponderOptions,
  type Suppressor,
} from '@floe/respond';
import { createTriageSync } from '@floe/runtime';
import { createDuckDbStore, type Store } from '@floe/store';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { buildApp, type ApiDeps } from './app.js';
import { createDecisionHandlers } from './decisions.js';

/** The clock of every harness: 2025-03-01T12:00:00Z. */
export const T0 = Date.parse('2025-03-01T12:00:00Z');

/** One harness: the app and the real components behind it. */
export interface Harness {
  app: ReturnType<typeof buildApp>;
  store: Store;
  bus: Bus;
  responder: Responder;
  registry: Registry;
  /** Parsed log lines the app wrote (level debug and up). */
  logs: Array<Record<string, unknown> & { level: number; msg?: string }>;
  /** Flip to make /healthz report not ok. */
  healthy: { ok: boolean };
  /** The harness clock; tests may move it. */
  clock: { now: number };
  /** The responder's protected set, with the run-time never-block entries (issue 8). */
  guard: LiveProtectedSet;
  /** The responder's suppression rules (issue 8). */
  suppressor: Suppressor;
}

/** Options of {@link harness}: responder options and API dependency overrides. */
export interface HarnessOptions {
  responder?: Partial<ResponderOptions>;
  api?: Partial<ApiDeps>;
}

/** Builds and starts a harness; everything is closed in `t.after`. */
export async function harness(t: TestContext, opts: HarnessOptions = {}): Promise<Harness> {
  const store = createDuckDbStore({ path: ':memory:' });
  await store.start();
  const bus = createMemoryBus();
  await bus.start();
  const registry = new Registry();
  const ro = { ...defaultResponderOptions(), ...opts.responder };
  const clock = { now: T0 };
  // wired as @floe/runtime's composeRoles wires them: one live protected set, a suppressor, the triage sync
  const guard = createLiveProtectedSet({ neverBlock: ro.neverBlock, nodes: ro.nodes, controlPlane: ro.controlPlane, hostAddrs: ro.nodeAddrs, minPrefixLength: ro.minPrefixLength });
  const suppressor = createSuppressor([], { now: () => clock.now, metrics: registry });
  const sync = createTriageSync({ store, guard, suppressor, now: () => clock.now });
  const responder = createResponder(ro, { metrics: registry, guard, suppressor });
  const writer = createDecisionWriter({ store, bus, responder });
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Harness['logs'][number]);
      cb();
    },
  });
  const healthy = { ok: true };
  const app = buildApp({
    store,
    registry,
    now: () => clock.now,
    logger: pino({ level: 'debug' }, sink),
    health: () => ({ ok: healthy.ok, store: 'duckdb', bus: healthy.ok ? 'up' : 'down' }),
    ...createDecisionHandlers({ responder, writer, store, now: () => clock.now }),
    onTriageChange: () => sync.refresh(),
    policyNeverBlock: ro.neverBlock,
    ...opts.api,
  });
  t.after(async () => {
    await app.close();
    await bus.stop().catch(() => undefined);
    await store.stop();
  });
  return { app, store, bus, responder, registry, logs, healthy, clock, guard, suppressor };
}
