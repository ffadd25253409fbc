import { silentLogger, type Logger } from '@floe/telemetry';

/** Health of one component: `ok` plus whatever the component reports (counts, mode, last times). */
export type ComponentHealth = Record<string, unknown> & { ok: boolean };

/**
 * One part of a service with the shape every floe component has (STYLE.md patterns 1-3):
 * built inert, `start()` connects or spawns, `stop()` drains and closes and is safe twice and
 * before start. A component that fails after start reports it with {@link Lifecycle.fail}.
 */
export interface Component {
  /** Short name used in logs, errors and the health body (`store`, `bus`, `processor`). */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health?(): ComponentHealth;
}

/** Where a lifecycle is: built, starting, running, stopping, stopped. */
export type LifecycleState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** How a lifecycle ended: the first failure, or none for a requested stop (signal, replay done). */
export interface LifecycleOutcome {
  reason: string;
  failure?: Error;
}

/** The composed lifecycle of one process's components. */
export interface Lifecycle {
  /** Adds components to start after those already added. @throws Error once start() was called. */
  add(...components: Component[]): void;
  /**
   * Starts every component in the order added (dependency order). When one throws, the ones
   * started are stopped in reverse and the error is rethrown, prefixed with the component's name.
   * A stop requested while starting (a signal) ends the start early without an error.
   */
  start(): Promise<void>;
  /** Stops every started component in reverse order, once; later calls return the same promise. */
  stop(reason: string): Promise<void>;
  /** A component failed after start: records the first failure and stops everything. */
  fail(component: string, err: Error): void;
  /** Resolves with the reason when stopping begins (signal, failure, request); never rejects. */
  readonly stopping: Promise<string>;
  /** Resolves once everything is stopped, with why; never rejects. */
  readonly done: Promise<LifecycleOutcome>;
  state(): LifecycleState;
  /** `ok` when running and every component reports ok; per-component health by name. */
  health(): { ok: boolean; state: LifecycleState; components: Record<string, ComponentHealth> };
}

/**
 * Builds a lifecycle (STYLE.md pattern 3: start in dependency order, stop in reverse; any failure
 * stops the whole service). Stopping continues past a component whose stop() throws: the error
 * is logged once and recorded as the outcome's failure if there was none.
 */
export function createLifecycle(deps: { logger?: Logger } = {}): Lifecycle {
  const log = deps.logger ?? silentLogger();
  const components: Component[] = [];
  const started: Component[] = [];
  let state: LifecycleState = 'idle';
  let stopping: Promise<void> | undefined;
  // The component start under way: a stop waits for it, so a component that finishes starting is stopped too.
  let inflight: Promise<void> | undefined;
  let outcome: LifecycleOutcome | undefined;
  let resolveDone!: (o: LifecycleOutcome) => void;
  const done = new Promise<LifecycleOutcome>((r) => {
    resolveDone = r;
  });
  let resolveStopping!: (reason: string) => void;
  const stoppingP = new Promise<string>((r) => {
    resolveStopping = r;
  });

  const stop = (reason: string): Promise<void> => {
    outcome ??= { reason };
    stopping ??= (async () => {
      state = 'stopping';
      resolveStopping(reason);
      log.info({ reason }, 'stopping');
      await null; // a stop asked from inside a start(): let that start's bookkeeping be set first
      await inflight?.catch(() => undefined);
      for (const c of [...started].reverse()) {
        try {
          await c.stop();
          log.debug({ component: c.name }, 'stopped');
        } catch (e) {
          const err = e as Error;
          log.error({ component: c.name, err: err.message }, 'stop failed');
          outcome!.failure ??= new Error(`${c.name}: stop failed: ${err.message}`, { cause: err });
        }
      }
      state = 'stopped';
      resolveDone(outcome!);
    })();
    return stopping;
  };

  return {
    add(...cs) {
      if (state !== 'idle') throw new Error(`cannot add components once the lifecycle is ${state}`);
      components.push(...cs);
    },
    async start() {
      if (state !== 'idle') throw new Error(`lifecycle already ${state}`);
      state = 'starting';
      for (const c of components) {
        if (stopping) return;
        try {
          inflight = (async () => {
            await c.start();
            started.push(c);
          })();
          await inflight;
        } catch (e) {
          const err = new Error(`${c.name}: start failed: ${(e as Error).message}`, { cause: e });
          // A component that threw in start() may hold resources: it is stopped too (stop is safe before or after a partial start).
          started.push(c);
          outcome ??= { reason: 'start failed', failure: err };
          await stop('start failed');
          throw err;
        }
        log.debug({ component: c.name }, 'started');
      }
      if (!stopping) state = 'running';
    },
    stop,
    fail(component, err) {
      log.error({ component, err: err.message }, 'component failed; stopping the service');
      outcome ??= { reason: `${component} failed`, failure: new Error(`${component}: ${err.message}`, { cause: err }) };
      void stop(`${component} failed`);
    },
    done,
    stopping: stoppingP,
    state: () => state,
    health() {
      const out: Record<string, ComponentHealth> = {};
      let ok = state === 'running';
      for (const c of components) {
        if (!c.health) continue;
        try {
          const h = c.health();
          out[c.name] = h;
          ok &&= h.ok;
        } catch (e) {
          out[c.name] = { ok: false, error: (e as Error).message };
          ok = false;
        }
      }
      return { ok, state, components: out };
    },
  };
}
