/**
 * DataGap v1: a stretch of time in which a source on a node is known to have missed input, so
 * that findings and reports over that time can say their data is incomplete ("no findings" is
 * then not "no attack"). Published by the collector on `floe.gaps.v1` (key: `node/source`),
 * stored by the processor beside the flows; times are the collector's clock, ms since epoch.
 *
 * Kinds:
 * - `enobufs`: the kernel dropped conntrack events because the netlink socket buffer was full
 *   (conntrack(8) `-E` prints "WARNING: We have hit ENOBUFS! We are losing events." on stderr;
 *   `count` = warnings seen in [from, to]; how many events each one lost is not known);
 * - `silent`: a live source that is still running gave no line for at least the configured
 *   `collector.silentAfterMs` (`from` = its last line, `to` = the next line or the time of the
 *   report while it is still silent; `count` 0);
 * - `rejected`: input lines the parsers rejected in [from, to] (`count` = lines; `reasons` by
 *   reason), reported with each publish interval, so a burst of damaged input shows as a gap.
 */
export interface DataGap {
  /** Schema version of this record shape. Always 1. */
  schema: 1;
  /** Observing host name (the collector's node). */
  node: string;
  /** The source that missed data: `conntrack` (live events), `replay`, ... (a kind, never a file path). */
  source: string;
  kind: DataGapKind;
  /** Start of the gap (ms since epoch). */
  from: number;
  /** End of the gap (ms since epoch), >= from. */
  to: number;
  /** Events (enobufs: warnings; rejected: lines) counted in the gap; 0 for silent. */
  count: number;
  /** For `rejected`: lines by reason code. */
  reasons?: Record<string, number>;
}

/** Kinds of DataGap. */
export type DataGapKind = 'enobufs' | 'silent' | 'rejected';

/** Every DataGapKind. */
export const DATA_GAP_KINDS: readonly DataGapKind[] = ['enobufs', 'silent', 'rejected'];

/** conntrack(8)'s warning when the kernel dropped events (conntrack-tools src/conntrack.c). */
export const ENOBUFS_WARNING = 'We have hit ENOBUFS! We are losing events.';

/** True when a stderr line of `conntrack -E` is the ENOBUFS warning (with or without its `WARNING: ` lead). */
export function isEnobufsWarning(line: string): boolean {
  return line.includes('hit ENOBUFS');
}

/** True for a well-formed DataGap v1 (consumers check the schema before use). */
export function isDataGap(x: unknown): x is DataGap {
  if (typeof x !== 'object' || x === null) return false;
  const g = x as Record<string, unknown>;
  return (
    g.schema === 1 &&
    typeof g.node === 'string' &&
    typeof g.source === 'string' &&
    (DATA_GAP_KINDS as readonly unknown[]).includes(g.kind) &&
    typeof g.from === 'number' &&
    typeof g.to === 'number' &&
    Number.isFinite(g.from) &&
    Number.isFinite(g.to) &&
    g.to >= g.from &&
    typeof g.count === 'number' &&
    Number.isInteger(g.count) &&
    g.count >= 0
  );
}
