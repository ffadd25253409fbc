import type { Finding } from '@floe/flow';
import type { SinkConfig } from './config.js';

/** One delivery: a route's group of findings, firing (raised or still active) or resolved (over). */
export interface Notification {
  /** Route name and group key (the values of the route's groupBy fields joined by `/`). */
  route: string;
  groupKey: string;
  status: 'firing' | 'resolved';
  /** The findings, in their latest form. */
  findings: Finding[];
  /** When the dispatcher made it (ms since epoch). */
  at: number;
}

/** A receiver of notifications. `send` resolves once the receiver accepted it. */
export interface Sink {
  readonly name: string;
  readonly type: SinkConfig['type'];
  /**
   * Delivers one notification (one attempt; the queue retries).
   * @throws AlertError FLOE_ALERT_SINK_FAILED (retriable) or FLOE_ALERT_SINK_REJECTED (not retried).
   */
  send(n: Notification, signal: AbortSignal): Promise<void>;
  /** A routed finding, each time one arrives (even a repeat that is not notified): sinks that keep alerts active (Alertmanager) track it. */
  track?(f: Finding, at: number): void;
  /** The finding's episode is over (its final form, or resolved by an analyst): sinks that keep alerts active end it. */
  end?(findingId: string, at: number): void;
  /** Called about once a second: notifications the sink wants sent now (re-sends, resolutions). */
  tick?(now: number): Notification[];
  /** Closes connections; safe twice. */
  close(): Promise<void>;
}
