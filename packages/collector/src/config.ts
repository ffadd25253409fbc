import type { FormatName } from '@floe/flow';

/** A live `conntrack -E` reader (conntrack(8), `-o extended,timestamp,id`). */
export interface ConntrackSource {
  kind: 'conntrack';
  /** conntrack binary (default `conntrack`). */
  command: string;
  /** Read events inside this network namespace (`ip netns exec NS conntrack ...`). */
  netns?: string;
  /** Netlink receive buffer in bytes (`conntrack -b`); absent or 0: the kernel default. */
  bufferBytes?: number;
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
  /** Longest input line in bytes (config `collector.maxLineBytes`; default @floe/flow DEFAULT_MAX_LINE_BYTES, 1 MiB). */
  maxLineBytes?: number;
  /**
   * A live source with no line for this long while it runs is reported silent (metric, log,
   * and a `silent` DataGap when it speaks again or at stop); 0 = off. Config
   * `collector.silentAfterMs`, default DEFAULT_SILENT_AFTER_MS.
   */
  silentAfterMs?: number;
  /** How often known gaps (ENOBUFS, rejected lines, silence) are published on floe.gaps.v1 (ms; default 1000). */
  gapIntervalMs?: number;
}

/** Default silence bound of a live source: 5 minutes (a quiet host may have no new connection for a minute or two). */
export const DEFAULT_SILENT_AFTER_MS = 300_000;

/** Default interval of gap reports (ms). */
export const DEFAULT_GAP_INTERVAL_MS = 1000;

export function defaultCollectorOptions(node: string): CollectorOptions {
  return { node, sources: [], batchSize: 500, flushMs: 100, silentAfterMs: DEFAULT_SILENT_AFTER_MS, gapIntervalMs: DEFAULT_GAP_INTERVAL_MS };
}
