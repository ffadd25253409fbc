/**
 * The validated, defaults-filled policy (file format version 1). Every key, its default and its
 * meaning are documented in packages/policy/README.md; the JSON schema is in schema.ts.
 */
import type { Severity } from '@floe/flow';

/** Protocol names usable in port rules: the port-carrying protocols of IANA's protocol numbers. */
export const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp', 'udplite'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/** Zone names the policy defines itself from `networks`; user zones may not reuse them. */
export const BUILTIN_ZONES = ['pods', 'services', 'nodes', 'controlPlane'] as const;

/**
 * Ports of one protocol: each item is a port (0..65535) or an inclusive range `"lo-hi"`.
 * `protocol` absent on an egress rule means any port-carrying protocol.
 */
export interface PortRule {
  protocol: PortProtocol;
  ports: Array<number | string>;
}

/** `networks`: what is "inside"; every list holds CIDRs or bare addresses. */
export interface PolicyNetworks {
  pods: string[];
  services: string[];
  nodes: string[];
  controlPlane: string[];
  /** Named zones: name -> CIDRs. */
  zones: Record<string, string[]>;
  /**
   * Zones given by selectors, as a NetworkPolicy peer writes them: a pod is in the zone when its
   * namespace's labels match `namespaceSelector` and its labels match `podSelector` (both when
   * both are given). Needs Kubernetes enrichment (packages/kube), which names the zone in
   * srcMeta/dstMeta `zone`; the first zone that matches wins, in file order.
   */
  selectorZones: Record<string, ZoneSelector>;
}

/** meta/v1 LabelSelector (Kubernetes "Labels and Selectors"). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** A zone by selectors (`networks.selectorZones.<name>`). */
export interface ZoneSelector {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

/** `ingress`: ports allowed on inside destinations for flows coming from outside. */
export interface PolicyIngress {
  enabled: boolean;
  severity: Severity;
  /** Allowed on every zone without its own entry in `zones`. */
  default: PortRule[];
  /** Per-zone allow lists; an entry replaces `default` for that zone. */
  zones: Record<string, PortRule[]>;
}

/** One egress allow-list entry: destinations, optionally restricted to a protocol and ports. */
export interface EgressRule {
  to: string[];
  /** Absent: any protocol (or, with `ports`, any port-carrying protocol). */
  protocol?: PortProtocol;
  /** Absent: any port. */
  ports?: Array<number | string>;
}

/** `egress`: allow-list for flows leaving the policy's networks; empty = no egress rule. */
export interface PolicyEgress {
  severity: Severity;
  allow: EgressRule[];
}

/** One blocklist prefix read from a blocklist file, with where it came from. */
export interface BlocklistFileEntry {
  cidr: string;
  file: string;
  line: number;
}

/** `blocklists`: known-bad prefixes, inline and from files. */
export interface PolicyBlocklists {
  severity: Severity;
  cidrs: string[];
  /** File paths as written (relative paths are resolved from the policy file's folder). */
  files: string[];
  /** Filled by the loader: the prefixes read from `files`, with file and line. */
  fromFiles: BlocklistFileEntry[];
}

/** One namespace trust rule: `from` may talk to each of `to` (`*` matches any namespace). */
export interface NamespaceAllow {
  from: string;
  to: string[];
}

/** `namespaces`: trust boundaries between namespaces known from the inventory. */
export interface PolicyNamespaces {
  enabled: boolean;
  severity: Severity;
  /** Flows inside one namespace are allowed without a rule. */
  sameNamespace: boolean;
  allow: NamespaceAllow[];
}

/** `rules.metadataApi`: pods must not reach the cloud instance metadata API. */
export interface MetadataApiRule {
  enabled: boolean;
  severity: Severity;
  addrs: string[];
  /** Source prefixes allowed to reach it. */
  allowFrom: string[];
  /** Source namespaces allowed to reach it. */
  allowNamespaces: string[];
}

/** `rules.etcdAccess`: only control-plane nodes may reach etcd. */
export interface EtcdAccessRule {
  enabled: boolean;
  severity: Severity;
  /** TCP ports of etcd (client and peer). */
  ports: Array<number | string>;
}

/** `detectors`: thresholds handed to packages/detect as plain data. */
export interface PolicyDetectors {
  /** updateOnDouble: re-emit the finding (same id, fuller evidence) each time the count doubles. */
  portscan: { windowMs: number; minPorts: number; severity: Severity; updateOnDouble: boolean };
  hostsweep: { windowMs: number; minHosts: number; severity: Severity; updateOnDouble: boolean };
  /** `scan.random`: distinct (host, port) pairs per source, spanning minHosts hosts and minPorts ports. */
  randomScan: { windowMs: number; minPairs: number; minHosts: number; minPorts: number; severity: Severity; updateOnDouble: boolean };
  /** `bruteforce.auth`: failed or short connections per (source, destination, auth port); defaults and sources in packages/detect/src/bruteforce.ts. */
  bruteforce: {
    enabled: boolean;
    windowMs: number;
    minFailures: number;
    ports: number[];
    maxPackets: number;
    maxClientBytes: number;
    maxDurationMs: number;
    severity: Severity;
    updateOnDouble: boolean;
  };
  /** `dos.synflood`: half-open TCP connections per (destination, port); defaults and sources in packages/detect/src/synflood.ts. */
  synflood: { enabled: boolean; windowMs: number; minHalfOpen: number; dominantShare: number; severity: Severity; updateOnDouble: boolean };
  /** `beacon.periodic`: regular check-ins per (source, destination, protocol, port); defaults and sources in packages/detect/src/beacon.ts. */
  beacon: {
    enabled: boolean;
    windowMs: number;
    minConnections: number;
    minIntervalMs: number;
    maxJitter: number;
    historySize: number;
    egressOnly: boolean;
    severity: Severity;
    updateOnDouble: boolean;
  };
  /**
   * The ML detector `ml.autoencoder`: `dir` is a model directory written by `floe train` (relative
   * to the policy file; absent: the detector is off); findings at `severity` name the `topFeatures`
   * features that drove them; windows with fewer than `minFlows` attempts are not scored.
   */
  model: { dir?: string; severity: Severity; topFeatures: number; minFlows: number };
  /** `exfil.volume`: bytes out of a cluster source to outside destinations far above its own baseline (see packages/detect exfil.ts). */
  exfil: PolicyExfil;
  /** `dns.resolver` and `dns.volume` (see packages/detect dns-resolver.ts, dns-volume.ts). */
  dns: PolicyDns;
  /** `lateral.newpeer`: new internal peers across a namespace trust boundary (see packages/detect lateral.ts). */
  lateral: PolicyLateral;
}

/** `detectors.exfil`: thresholds of `exfil.volume` (defaults and their sources in packages/detect exfil.ts). */
export interface PolicyExfil {
  enabled: boolean;
  /** Tumbling window of event time per source (ms; default 300000). */
  windowMs: number;
  /** Bytes out in one window below which nothing is raised, whatever the baseline (default 50000000). */
  minBytes: number;
  /** Standard deviations above the baseline mean a window must exceed (default 3). */
  sigmas: number;
  /** Weight of the newest window in the EWMA baseline, 0 < alpha <= 1 (default 0.1). */
  alpha: number;
  /** Windows with egress a source needs before its baseline counts; until then only `minBytes` applies (default 6). */
  learnWindows: number;
  /** Producer-consumer ratio (out - in) / (out + in) a window must reach, -1..1 (default 0.4). */
  minPcr: number;
  severity: Severity;
}

/** `detectors.dns`: named resolvers and DNS volume thresholds (defaults and sources in packages/detect dns-volume.ts). */
export interface PolicyDns {
  /** Resolver prefixes the cluster may use; DNS to any other is `dns.resolver`. Empty (default): `dns.resolver` is off. */
  resolvers: string[];
  /** Severity of `dns.resolver` (default medium). */
  resolverSeverity: Severity;
  /** Turns `dns.volume` on or off (default true). */
  volume: boolean;
  /** Tumbling window of event time per source (ms; default 60000). */
  windowMs: number;
  /** Queries per window at or above which `dns.volume` is raised, baseline or not (default 600). */
  maxQueries: number;
  /** Queries per window below which the baseline test never raises (default 100). */
  minQueries: number;
  /** Standard deviations above the baseline mean (default 4). */
  sigmas: number;
  /** EWMA weight of the newest window (default 0.1). */
  alpha: number;
  /** Windows with DNS a source needs before its baseline counts (default 6). */
  learnWindows: number;
  /** Distinct resolvers in one window at or above which `dns.volume` is raised (default 4). */
  maxResolvers: number;
  /** Severity of `dns.volume` (default medium). */
  volumeSeverity: Severity;
}

/** `detectors.lateral`: thresholds of `lateral.newpeer` (defaults and sources in packages/detect lateral.ts). */
export interface PolicyLateral {
  enabled: boolean;
  /** Learning period per source entity from its first flow (ms; default 86400000): peers seen in it are known. */
  learnMs: number;
  /** A finding's window from its first new peer (ms; default 3600000). */
  windowMs: number;
  /** New peers in one window that raise the severity to `manySeverity` (default 10). */
  manyPeers: number;
  severity: Severity;
  manySeverity: Severity;
}

/** `respond`: settings handed to packages/respond. Durations are written `90s`, `15m`, `1h`, `1d` in the file and held here in ms (`…Ms` keys). */
export interface PolicyRespond {
  minSeverity: Severity;
  /** Block duration of a first offence (ms); written `ttl: 1h` in the file. */
  ttlMs: number;
  /** Block durations of the 1st, 2nd, 3rd... offence (ms); the last repeats. Written `escalation: [1h, 4h, 24h]`. */
  escalationMs: number[];
  maxNewBlocksPerMinute: number;
  dryRun: boolean;
  /** Prefixes the responder never blocks. */
  neverBlock: string[];
  /** Shortest prefix length a block may have, per family (default ipv4 16, ipv6 32): wider targets are refused, stored ones held back. */
  minPrefixLength: { ipv4: number; ipv6: number };
  /** Block on findings whose flows were all logged with an accept verdict (`[UFW ALLOW]`, `ACCEPT`) (default false). */
  blockOnAcceptedLogs: boolean;
}

/** Where the policy came from, and a digest of its text (and of its blocklist files). */
export interface PolicySource {
  file: string;
  /** sha256 of the policy text followed by each blocklist file's text, first 12 hex chars. */
  digest: string;
}

/** A validated, defaults-filled policy (deep-frozen when returned by the loaders). */
export interface Policy {
  version: 1;
  /** Optional label. */
  name?: string;
  networks: PolicyNetworks;
  ingress: PolicyIngress;
  egress: PolicyEgress;
  blocklists: PolicyBlocklists;
  namespaces: PolicyNamespaces;
  rules: { metadataApi: MetadataApiRule; etcdAccess: EtcdAccessRule };
  detectors: PolicyDetectors;
  respond: PolicyRespond;
  source: PolicySource;
}

/** One problem in a policy or inventory file. `line` and `column` are 1-based. */
export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  /** Field path in the document, for example `networks.pods[1]` (empty for the whole document). */
  field: string;
  message: string;
  /** Issue code (FLOE_POLICY_YAML_SYNTAX, FLOE_POLICY_UNKNOWN_KEY, ...; see README). */
  code: string;
  /** 'warning' for issues of policyWarnings (the policy is valid but risky); absent = an error. */
  severity?: 'error' | 'warning';
}
