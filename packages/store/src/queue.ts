import { STORE_ERROR_CODES, StoreError } from './errors.js';

/** Operations of one store, run one at a time in call order on its connection or client. */
export interface OpQueue<C> {
  /**
   * Runs `fn` with the connection after every earlier operation has settled; a failure rejects
   * this call only.
   * @throws StoreError FLOE_STORE_NOT_STARTED (`<name> store: not started`) when there is no connection then.
   */
  run<T>(fn: (c: C) => Promise<T>): Promise<T>;
  /** Settles when every operation queued so far has settled (never rejects). */
  idle(): Promise<unknown>;
}

/**
 * The operation queue of an adapter named `name` (`duckdb`, `clickhouse`); `conn` gives the
 * current connection, undefined before start and after stop. Internal to @floe/store.
 */
export function opQueue<C>(name: string, conn: () => C | undefined): OpQueue<C> {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(fn: (c: C) => Promise<T>): Promise<T> {
      const run = tail.then(() => {
        const c = conn();
        if (!c) throw new StoreError(STORE_ERROR_CODES.NOT_STARTED, `${name} store: not started`);
        return fn(c);
      });
      tail = run.catch(() => undefined);
      return run;
    },
    idle: () => tail,
  };
}
