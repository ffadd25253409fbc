import type { FormatName } from '@floe/flow';

/** A live `conntrack -E` reader (conntrack(8), `-o extended,timestamp,id`). */
export interface ConntrackSource {
  kind: 'conntrack';
  /** conntrack binary (default `conntrack`). */
  command: string;
  /** Read events inside this network namespace (`ip netns exec NS conntrack ...`). */
  netns?: string;
}

/** A capture file fed through the pipeline at its recorded pace times `speed`, or as fast as it goes. */
export interface ReplaySource {
  kind: 'replay';
  file: string;
  format: FormatName | 'auto';
  /** 1 = recorded pace, 10 = ten times faster, 'max' = no waiting. */
  speed: number | 'max';
}

export type CollectorSource = ConntrackSource | ReplaySource;

/** Collector options (the `collector` section of the configuration, resolved to sources). */
export interface CollectorOptions {
  node: string;
  sources: CollectorSource[];
  /** Flows per bus publish. */
  batchSize: number;
  /** Longest wait of a flow in a batch (ms). */
  flushMs: number;
}

export function defaultCollectorOptions(node: string): CollectorOptions {
  return { node, sources: [], batchSize: 500, flushMs: 100 };
}
