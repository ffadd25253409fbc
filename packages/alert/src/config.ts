/**
 * The `alert` configuration section (validated by packages/config's schema; this is its shape
 * and the defaults of the options the dispatcher takes). Durations are ms.
 */
import type { Severity } from '@floe/flow';

/** A generic webhook: JSON POST, signed with HMAC-SHA256 (see sinks/webhook.ts). */
export interface WebhookSinkConfig {
  type: 'webhook';
  url: string;
  /** HMAC key; exactly one of secret / secretFile. */
  secret?: string;
  /** File holding the HMAC key (surrounding whitespace trimmed). */
  secretFile?: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
}

/** A Slack incoming webhook (https://api.slack.com/messaging/webhooks). */
export interface SlackSinkConfig {
  type: 'slack';
  url: string;
  timeoutMs?: number;
}

/** Syslog RFC 5424 with a CEF payload over UDP (RFC 5426), TCP with octet counting (RFC 6587) or TLS (RFC 5425). */
export interface SyslogSinkConfig {
  type: 'syslog';
  transport: 'udp' | 'tcp' | 'tls';
  host: string;
  port: number;
  /** RFC 5424 facility number 0..23 (default 10: security/authorization messages). */
  facility?: number;
  /** TLS: CA certificate file (PEM) that verifies the receiver; absent: the system's CAs. */
  caFile?: string;
  /** TLS: client certificate and key files (PEM) when the receiver asks for one. */
  certFile?: string;
  keyFile?: string;
  /** TLS: name checked in the receiver's certificate (default: host). */
  serverName?: string;
  timeoutMs?: number;
}

/** Prometheus Alertmanager's v2 API (POST /api/v2/alerts). */
export interface AlertmanagerSinkConfig {
  type: 'alertmanager';
  /** Base URL, e.g. http://127.0.0.1:9093 (the sink appends /api/v2/alerts). */
  url: string;
  /** Link each alert carries (generatorURL), e.g. the floe API's findings page. */
  generatorUrl?: string;
  timeoutMs?: number;
}

/** One sink, by its `type`. */
export type SinkConfig = WebhookSinkConfig | SlackSinkConfig | SyslogSinkConfig | AlertmanagerSinkConfig;

/** What a route groups by (the group key is made of these fields of a finding). */
export type GroupField = 'detector' | 'entity' | 'severity' | 'namespace';

/** A route: which findings (all given conditions must hold) go to which sinks, grouped how. */
export interface RouteConfig {
  /** Name in logs and metrics (default `route<index>`). */
  name?: string;
  /** Lowest severity routed (default info: all). */
  minSeverity?: Severity;
  /** Detector ids or globs (`portscan.*`, `*`); absent: any. */
  detectors?: string[];
  /**
   * Namespaces (of the entity, or srcMeta/dstMeta of the finding's evidence when present); absent:
   * any. A finding with no known namespace never matches a route that lists namespaces.
   */
  namespaces?: string[];
  /** Names of sinks in `alert.sinks`. */
  sinks: string[];
  /** Group key fields (default detector + entity). */
  groupBy?: GroupField[];
  /** Overrides of the section's group timings. */
  groupWaitMs?: number;
  groupIntervalMs?: number;
}

/** The `alert` section. */
export interface AlertConfig {
  enabled: boolean;
  /** Wait this long after a group's first finding before its first notification (Alertmanager group_wait). */
  groupWaitMs: number;
  /** Least time between two notifications of one group; a repeat (same detector and entity) inside it is not sent again (Alertmanager group_interval). */
  groupIntervalMs: number;
  /** Alertmanager sinks re-send every active alert this often (below Alertmanager's resolve_timeout). */
  resendIntervalMs: number;
  /** An alert whose finding had no update for this long is over: Alertmanager gets endsAt. */
  resolveAfterMs: number;
  /** Deliveries waiting per sink; more are dropped and counted (floe_alert_dropped_total{cause="queue-full"}). */
  queueSize: number;
  /** Retries of one delivery with exponential backoff and full jitter. */
  retry: { retries: number; minDelayMs: number; maxDelayMs: number; factor: number };
  /** Dead letters: appended as JSON lines to `file` when set; redelivered while younger than redeliverWithinMs; a down sink is probed every probeIntervalMs. */
  deadLetter: { file?: string; redeliverWithinMs: number; probeIntervalMs: number };
  /** Longest wait in stop() for the queues to drain (ms). */
  drainTimeoutMs: number;
  sinks: Record<string, SinkConfig>;
  routes: RouteConfig[];
}

/** Defaults of every option of the section (the same as the config schema's). */
export function defaultAlertConfig(): AlertConfig {
  return {
    enabled: true,
    groupWaitMs: 10_000,
    groupIntervalMs: 300_000,
    resendIntervalMs: 60_000,
    resolveAfterMs: 600_000,
    queueSize: 1000,
    retry: { retries: 5, minDelayMs: 500, maxDelayMs: 30_000, factor: 2 },
    deadLetter: { redeliverWithinMs: 86_400_000, probeIntervalMs: 30_000 },
    drainTimeoutMs: 5000,
    sinks: {},
    routes: [],
  };
}
