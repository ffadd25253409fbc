/**
 * The window features, in the order of `EntityWindow.values`. Counts, bytes and durations are
 * log-scaled (`ln(1 + x)`) because they are heavy-tailed; shares are in [0, 1]; entropies are
 * in bits (0..5, see sketch.ts); `*_vs_baseline` are the window's log value minus the entity's
 * EWMA of it over its past windows.
 */
export const FEATURE_NAMES = [
  /** ln(1 + connection attempts) in the window. */
  'flows',
  /** ln(1 + distinct destination addresses). */
  'dst_addrs',
  /** ln(1 + distinct destination ports; ICMP type for ICMP, the protocol for port-less protocols). */
  'dst_ports',
  /** ln(1 + distinct destination /24 prefixes; /64 for IPv6). */
  'dst_prefixes',
  /** ln(1 + distinct (destination address, port) pairs). */
  'dst_pairs',
  /** ln(1 + bytes sent, original direction). */
  'bytes_out',
  /** ln(1 + bytes received, reply direction). */
  'bytes_in',
  /** ln(1 + packets sent). */
  'packets_out',
  /** ln(1 + packets received). */
  'packets_in',
  /** log2((bytes_out + 1) / (bytes_in + 1)): positive when the entity sends more than it receives; 0 when no record says what came back (packet logs). */
  'bytes_ratio',
  /** Share of ended flows that were unreplied, refused (TCP never assured) or dropped by a logged verdict. */
  'failed_share',
  /** ln(1 + mean duration in seconds) of ended flows with a start and end. */
  'duration_mean',
  /** ln(1 + longest duration in seconds). */
  'duration_max',
  /** Share of attempts leaving the cluster (the `leavesCluster` option). */
  'external_share',
  /** Share of attempts to a destination address this entity was not seen reaching before. */
  'new_dst_share',
  /** Entropy (bits) of the destination ports of the attempts. */
  'port_entropy',
  /** Entropy (bits) of the destination addresses of the attempts. */
  'addr_entropy',
  /** ln(1 + coefficient of variation of the intervals between attempts); the CV is taken as 1 (Poisson arrivals: no evidence either way) with fewer than 2 intervals; near 0 for a beacon. */
  'interval_cv',
  /** Share of attempts to port 53 (DNS). */
  'dns_share',
  /** Share of attempts that are ICMP or ICMPv6. */
  'icmp_share',
  /** flows minus the entity's EWMA of it (0 on its first window). */
  'flows_vs_baseline',
  /** dst_addrs minus the entity's EWMA of it. */
  'dst_addrs_vs_baseline',
  /** bytes_out minus the entity's EWMA of it. */
  'bytes_out_vs_baseline',
] as const;

/** One feature name. */
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** Number of features (length of `EntityWindow.values`). */
export const FEATURE_COUNT = FEATURE_NAMES.length;

/** Index of each feature in `EntityWindow.values`. */
export const F = Object.freeze(Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>);
