/** The detector port: what the processor feeds flows into. */
import type { Finding, FlowRecord } from '@floe/flow';

/** A stateful detector over a flow stream, in event time. */
export interface Detector {
  /** Stable detector id, written to `Finding.detector` (`portscan.vertical`). */
  readonly id: string;
  /** Count one flow; returns the findings it triggers (usually none). Never throws on odd records. */
  observe(flow: FlowRecord): Finding[];
  /** Drop state whose newest event is older than the window, relative to `nowMs` (ms since epoch, event time); returns nothing new. */
  expire(nowMs: number): void;
}
