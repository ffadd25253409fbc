/**
 * FlowRecord v1: one flow, or one event of a flow, as a collector saw it.
 *
 * Field names follow conntrack(8) and IPFIX (RFC 7012) usage. Unknown values stay absent,
 * never guessed. Times are milliseconds since the Unix epoch; counters are bytes / packets.
 * Addresses are normalised once by the parser: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes
 * IPv4, IPv6 is in RFC 5952 canonical form.
 */
export interface FlowRecord {
  /** Schema version of this record shape. Always 1 for v1. */
  schema: 1;
  /** When the collector observed the record (ms since epoch, collector clock). */
  observedAt: number;
  /** Flow start (ms since epoch), when the source says. */
  start?: number;
  /** Flow end (ms since epoch), when the source says. */
  end?: number;
  /**
   * True when the input carried no time for this record (a `conntrack -L` dump line, `conntrack -E`
   * without `-o timestamp`, a log line without a time stamp): `observedAt` is then when the line was
   * read (the parser's `now()`), not when the flow happened, and no duration may be claimed from it.
   * Absent when `observedAt`, `start` or `end` came from the record itself.
   */
  untimed?: true;
  /** Observing host name. */
  node?: string;
  /** Which input produced the record. */
  source: FlowSource;
  /** Event kind: conntrack NEW/UPDATE/DESTROY, `snapshot` for a `conntrack -L` dump line, `log` for a packet log. */
  event: FlowEvent;
  /** Address family: 4 or 6. */
  family: 4 | 6;
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, 132 sctp, ...). */
  protocol: number;
  /** Original-direction source address. */
  srcAddr: string;
  /** Original-direction destination address. */
  dstAddr: string;
  /** Original-direction source port (absent for protocols without ports). */
  srcPort?: number;
  /** Original-direction destination port (absent for protocols without ports). */
  dstPort?: number;
  /** ICMP/ICMPv6 type, instead of ports. */
  icmpType?: number;
  /** ICMP/ICMPv6 code, instead of ports. */
  icmpCode?: number;
  /** Reply tuple, only when it differs from the swapped original tuple (NAT). */
  replySrcAddr?: string;
  replyDstAddr?: string;
  replySrcPort?: number;
  replyDstPort?: number;
  /** Original-direction counters (bytes, packets); needs nf_conntrack_acct=1 for conntrack. */
  bytesOrig?: number;
  packetsOrig?: number;
  /** Reply-direction counters (bytes, packets). */
  bytesReply?: number;
  packetsReply?: number;
  /** TCP state as conntrack names it (SYN_SENT, ESTABLISHED, TIME_WAIT, ...). */
  state?: string;
  /** conntrack [ASSURED]: traffic seen in both directions and the entry kept. */
  assured?: boolean;
  /** conntrack [UNREPLIED]: no reply seen yet. */
  unreplied?: boolean;
  /** conntrack zone. */
  zone?: number;
  /** conntrack or packet mark. */
  mark?: number;
  /** conntrack id (`-o id`), as a decimal string (u32, kept as text to stay exact). */
  ctId?: string;
  /** Log prefix from the LOG/NFLOG rule (`--log-prefix`, nft `log prefix`). */
  logPrefix?: string;
  /** Verdict, when the source says (packet logs with a DROP/ACCEPT prefix, flow logs). */
  verdict?: 'accept' | 'drop';
  /** Input and output interface names, for packet logs. */
  inIface?: string;
  outIface?: string;
  /** Relative to the policy's networks; set by enrichment, not by parsers. */
  direction?: FlowDirection;
  /** Enrichment of each end (from the inventory / Kubernetes). */
  srcMeta?: EndpointMeta;
  dstMeta?: EndpointMeta;
}

/** Input kinds that produce FlowRecords. */
export type FlowSource = 'conntrack' | 'conntrack-xml' | 'nflog' | 'nfct' | 'kernel-log' | 'file';

/** Event kinds. `snapshot` is a line of a `conntrack -L` dump; `log` a packet log line. */
export type FlowEvent = 'new' | 'update' | 'destroy' | 'snapshot' | 'log';

/** Direction relative to the policy's own networks. */
export type FlowDirection = 'ingress' | 'egress' | 'internal' | 'external';

/**
 * What enrichment knows about one end of a flow. All optional: unknown stays absent. Filled by the
 * policy's inventory and networks (packages/policy) and by Kubernetes enrichment (packages/kube,
 * from the API server's Pods, Services, Nodes and Namespaces at the flow's time).
 */
export interface EndpointMeta {
  /** Kubernetes namespace (or the inventory's). */
  namespace?: string;
  /** Pod name. */
  pod?: string;
  /** Workload name: the top controller owning the pod (Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet...), or the inventory's. */
  workload?: string;
  /** Kind of `workload` as the API names it (`Deployment`, `StatefulSet`, `DaemonSet`, `CronJob`, `Job`, `ReplicaSet`, `Node` for a host-network pod's node). */
  workloadKind?: string;
  /** Node name (the pod's `spec.nodeName`, or the node itself). */
  node?: string;
  /** Named zone from the policy's networks (for example `pods`, `nodes`, `dmz`) or from a zone given by namespace/pod selectors. */
  zone?: string;
  /** Failure-domain zone of the node: its `topology.kubernetes.io/zone` label (Kubernetes "Well-Known Labels"). Not the policy's `zone`. */
  topologyZone?: string;
  /** Service name (`namespace` is the Service's) when the flow went to a Service's ClusterIP or a node's NodePort, or to an address an EndpointSlice lists for it. */
  service?: string;
  /** Pod labels. */
  labels?: Record<string, string>;
}

/** The string fields of EndpointMeta (every field but `labels`), in one place for validators. */
export const ENDPOINT_META_TEXT_FIELDS = ['namespace', 'pod', 'workload', 'workloadKind', 'node', 'zone', 'topologyZone', 'service'] as const;

/** IANA protocol numbers used by name across floe (IANA "Assigned Internet Protocol Numbers"). */
export const PROTO = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  dccp: 33,
  gre: 47,
  esp: 50,
  ah: 51,
  icmpv6: 58,
  sctp: 132,
  udplite: 136,
} as const;

/** Protocol name for an IANA number, or the number as text when floe has no name for it. */
export function protocolName(protocol: number): string {
  for (const [name, num] of Object.entries(PROTO)) if (num === protocol) return name;
  return String(protocol);
}
