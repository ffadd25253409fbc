/** The detector port: what the processor feeds flows into. */
import type { Finding, FlowRecord } from '@floe/flow';

/**
 * A stateful detector over a flow stream, in event time. A finding may be emitted several times
 * with one id (raised, then updated, then in its final form when its window closes): consumers keep
 * the last form of each id (stores upsert by id).
 */
export interface Detector {
  /** Stable detector id, written to `Finding.detector` (`portscan.vertical`). */
  readonly id: string;
  /**
   * Count one flow; returns the findings it triggers (usually none): a finding raised or updated,
   * and the final forms of windows that closed because event time moved past them (record-driven
   * close). Never throws on odd records.
   */
  observe(flow: FlowRecord): Finding[];
  /**
   * Event time has reached `nowMs` (ms since epoch) with no record saying so (time-driven close, for
   * an idle stream): returns the final forms of findings whose window ended by then, and drops
   * state older than the window.
   */
  expire(nowMs: number): Finding[];
  /** End of input (end of an analyze run, a processor stopping): returns the final form of every finding still open, and closes them. */
  flush(): Finding[];
}
