/**
 * The one configuration schema of floe (JSON Schema draft-07, checked with ajv). Every key has
 * a default that works on a single machine; `description` is the key's documentation and is
 * printed by `floe config --print`. Durations are ms, sizes bytes.
 */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    node: { type: 'string', minLength: 1, description: 'Name of this host in records and decisions. Default: the hostname.' },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'pino log level.' },
      },
    },
    policyFile: { type: 'string', description: 'Policy YAML file. Absent: the embedded default policy.' },
    inventoryFile: { type: 'string', description: 'Inventory file mapping addresses/CIDRs to namespace and workload.' },
    collector: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        conntrack: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { enum: ['auto', 'on', 'off'], default: 'auto', description: 'Live `conntrack -E` events: auto = when root and the conntrack tool are present.' },
            command: { type: 'string', default: 'conntrack', description: 'conntrack binary.' },
            netns: { type: 'string', description: 'Read events inside this network namespace (`ip netns exec`).' },
            bufferBytes: {
              type: 'integer',
              minimum: 0,
              maximum: 1073741824,
              default: 8388608,
              description:
                'Netlink receive buffer of `conntrack -E` in bytes (`-b`; as root the kernel grants it past net.core.rmem_max). A burst larger than the buffer is lost (conntrack warns ENOBUFS; floe records a data gap). 0: the kernel default. Default 8 MiB, the largest buffer conntrackd grows to by default (NetlinkBufferSizeMaxGrowth, conntrackd.conf(5)).',
            },
          },
        },
        replay: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            file: { type: 'string', minLength: 1, description: 'Capture file the collector feeds through the pipeline instead of live events (absent: live conntrack).' },
            format: {
              enum: ['auto', 'conntrack', 'conntrack-xml', 'kernel-log', 'ulogd-json'],
              default: 'auto',
              description: 'Format of the replay file (auto = detect from its first lines).',
            },
            speed: { type: 'number', minimum: 0, default: 1, description: 'Replay pace: 1 = as recorded, 10 = ten times faster, 0 = as fast as it goes.' },
            exitWhenDone: { type: 'boolean', default: false, description: 'The collector process stops (exit 0) once the replay is published.' },
          },
        },
        batchSize: { type: 'integer', minimum: 1, maximum: 100000, default: 500, description: 'Flows per bus message batch.' },
        flushMs: { type: 'integer', minimum: 1, maximum: 60000, default: 100, description: 'Longest time a flow waits in a batch (ms).' },
        maxLineBytes: {
          type: 'integer',
          minimum: 1024,
          // @floe/flow MAX_LINE_BYTES_LIMIT (256 MiB): a line is one string, and V8's longest is 2^29 - 24 characters.
          maximum: 268435456,
          default: 1048576,
          description: 'Longest input line read (bytes); a longer line is counted as rejected (line-too-long) and skipped without being held in memory.',
        },
        silentAfterMs: {
          type: 'integer',
          minimum: 0,
          default: 300000,
          description: 'A live source with no line for this long is reported silent (metric floe_collector_source_silent, a silent data gap); 0 = off (ms).',
        },
      },
    },
    processor: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        storeFlows: { type: 'boolean', default: true, description: 'Write every flow to the store (off: findings and decisions only).' },
        group: { type: 'string', minLength: 1, default: 'floe-processor', description: 'Consumer group on floe.flows.v1 (processors of one group share the partitions).' },
        crds: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: {
              type: 'boolean',
              default: false,
              description:
                'Watch the FloePolicy and FloeNeverBlock custom resources (deploy/k8s/crd-*.yaml, packages/kubeconfig) and apply them within seconds: the named FloePolicy replaces policyFile while it exists and is valid; every FloeNeverBlock joins respond.neverBlock.',
            },
            kubeconfig: { type: 'string', minLength: 1, description: 'Kubeconfig file of the API server. Absent: the in-cluster service account.' },
            namespace: { type: 'string', minLength: 1, default: 'floe', description: 'Namespace of the FloePolicy and FloeNeverBlock objects watched.' },
            policyName: { type: 'string', minLength: 1, default: 'default', description: 'Name of the FloePolicy applied; other FloePolicies get status Ignored.' },
          },
        },
      },
    },
    kube: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        'Kubernetes enrichment (@floe/kube) in the processor: pods, Services, nodes and namespaces read from the API server name both ends of every flow; NetworkPolicies are evaluated on every flow.',
      properties: {
        enabled: {
          type: 'boolean',
          default: false,
          description:
            'Read the cluster through the Kubernetes API (list and watch; RBAC: list/watch pods, services, nodes, namespaces, endpointslices, networkpolicies; get replicasets and jobs).',
        },
        kubeconfig: { type: 'string', minLength: 1, description: 'kubeconfig file. Absent: in-cluster credentials when inCluster, else $KUBECONFIG or ~/.kube/config.' },
        inCluster: { type: 'boolean', default: false, description: "Use the pod's service account (KUBERNETES_SERVICE_HOST and the mounted token)." },
        graceMs: {
          type: 'integer',
          minimum: 0,
          maximum: 86400000,
          default: 300000,
          description: "How long a deleted pod's address still names it, for flows stamped after the deletion (ms).",
        },
        networkPolicies: {
          type: 'boolean',
          default: true,
          description: 'Evaluate every flow against the NetworkPolicies read from the cluster; flows they would deny become kube.netpol-denied findings.',
        },
      },
    },
    enforcer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Apply decisions on this node.' },
        dryRun: { type: 'boolean', default: false, description: 'Never touch nftables; log what would be done.' },
        reconcileIntervalMs: { type: 'integer', minimum: 100, default: 10000, description: 'How often the enforcer compares the kernel set with the decisions (ms).' },
        netns: { type: 'string', description: 'Apply nftables inside this network namespace (`ip netns exec`).' },
        table: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]*$', default: 'floe', description: 'nftables table (family inet) owned by floe.' },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve the HTTP API.' },
        host: { type: 'string', default: '127.0.0.1', description: 'Listen address.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Listen port (0 = any free port).' },
        token: {
          type: 'string',
          minLength: 16,
          maxLength: 4096,
          pattern: '^[\\x21-\\x7e]+$',
          description:
            'Shared bearer token (`Authorization: Bearer <token>`) with role api.tokenRole (default admin); 16+ printable ASCII characters, no spaces. Per-person tokens: `floe token create`. Prefer FLOE_API_TOKEN or tokenFile to writing it in a file others read.',
        },
        tokenFile: {
          type: 'string',
          minLength: 1,
          description: 'File holding the bearer token (surrounding whitespace trimmed), e.g. a mounted Kubernetes Secret; exclusive with token.',
        },
        allowUnauthenticated: {
          type: 'boolean',
          default: false,
          description:
            'Let the api role listen on a non-loopback host without a token (anyone reaching the port can block and unblock). Without it, that configuration is refused (exit 2).',
        },
        tokenRole: {
          enum: ['viewer', 'analyst', 'admin'],
          default: 'admin',
          description: 'Role of the shared api.token / api.tokenFile (roles: viewer < analyst < admin; see packages/api/README.md).',
        },
        anonymousRole: {
          enum: ['none', 'viewer', 'analyst', 'admin'],
          description:
            'Role of a request without a bearer token. Absent: admin when neither api.token/tokenFile nor api.oidc is set (the open loopback API of earlier versions), none otherwise (401).',
        },
        metricsRequireAuth: { type: 'boolean', default: false, description: 'GET /metrics requires a bearer token of any role (viewer and up). /healthz always stays open.' },
        rateLimit: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            perAddress: {
              type: 'integer',
              minimum: 1,
              default: 6000,
              description: 'Requests one client address may make per rateLimit.windowMs (every request counts); 429 with Retry-After beyond.',
            },
            perToken: {
              type: 'integer',
              minimum: 1,
              default: 3000,
              description: 'Requests one authenticated identity (token or OIDC subject) may make per rateLimit.windowMs; 429 with Retry-After beyond.',
            },
            windowMs: { type: 'integer', minimum: 1000, default: 60000, description: 'Rate-limit window (ms).' },
          },
        },
        tls: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            cert: { type: 'string', minLength: 1, description: 'PEM certificate (chain) file: with tls.key the API serves HTTPS only.' },
            key: { type: 'string', minLength: 1, description: 'PEM private key file of tls.cert.' },
          },
        },
        oidc: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            issuer: { type: 'string', minLength: 1, description: 'OIDC issuer (`iss`) whose JWT bearer tokens the API accepts; absent: OIDC off. Needs jwksUri and audience.' },
            audience: { type: 'string', minLength: 1, description: 'Required `aud` of OIDC tokens.' },
            jwksUri: { type: 'string', minLength: 1, description: "URL of the issuer's JWKS (RFC 7517), fetched and cached by jose." },
            roleClaim: { type: 'string', minLength: 1, default: 'roles', description: "Claim holding the caller's roles or groups (a string or an array of strings)." },
            roles: {
              type: 'object',
              additionalProperties: { enum: ['viewer', 'analyst', 'admin'] },
              default: {},
              description: 'Claim value → floe role, e.g. {"soc-analysts": "analyst"}; the highest matching role wins; no match: 403.',
            },
            clockToleranceSec: { type: 'integer', minimum: 0, maximum: 300, default: 30, description: 'Clock skew allowed on exp/nbf/iat (s).' },
          },
        },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: {
          type: 'string',
          default: '127.0.0.1',
          description: 'Listen address of the per-role health endpoint (GET /healthz, /metrics) of the role mains; 0.0.0.0 in containers. `floe run` answers on the API instead.',
        },
        collectorPort: { type: 'integer', minimum: 0, maximum: 65535, default: 9601, description: 'Health endpoint port of the collector process (0 = any free port).' },
        processorPort: { type: 'integer', minimum: 0, maximum: 65535, default: 9602, description: 'Health endpoint port of the processor process (0 = any free port).' },
        enforcerPort: { type: 'integer', minimum: 0, maximum: 65535, default: 9603, description: 'Health endpoint port of the enforcer process (0 = any free port).' },
        apiPort: { type: 'integer', minimum: 0, maximum: 65535, default: 9604, description: 'Health endpoint port of the api process (0 = any free port).' },
        shutdownTimeoutMs: {
          type: 'integer',
          minimum: 100,
          default: 25000,
          description: 'Longest a graceful shutdown (drain, commit, close) may take before the process exits 1 (ms); below the 30 s Kubernetes grace period.',
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kind: { enum: ['duckdb', 'clickhouse'], default: 'duckdb', description: 'Store adapter.' },
        path: { type: 'string', default: 'data/floe.duckdb', description: 'DuckDB file (":memory:" for none).' },
        threads: {
          type: 'integer',
          minimum: 0,
          maximum: 1024,
          default: 0,
          description: 'DuckDB worker threads (0: one fewer than the cores, at least 1, so the event loop keeps a core).',
        },
        url: { type: 'string', default: 'http://127.0.0.1:8123', description: 'ClickHouse HTTP URL.' },
        database: { type: 'string', default: 'floe', description: 'ClickHouse database.' },
        retentionDays: { type: 'integer', minimum: 1, default: 30, description: 'Days flows are kept.' },
      },
    },
    report: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dir: {
          type: 'string',
          minLength: 1,
          default: 'data/reports',
          description: 'Folder of kept compliance reports (files <id>.<format> and index.json); served by GET /v1/reports.',
        },
        cluster: {
          type: 'string',
          minLength: 1,
          maxLength: 253,
          description: 'Cluster name printed in the scope of every report (one store records one cluster). Absent: "(this store)".',
        },
        schedules: {
          type: 'array',
          default: [],
          maxItems: 50,
          description:
            'Scheduled reports, made by the api role: { name, cron (5-field cron, UTC) or everyMs (>= 60000), rangeMs (period ending at the run, default 86400000), formats (default [json, pdf]), namespaces, zones }.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Schedule name (in report ids, logs and floe_report_runs_total).' },
              cron: { type: 'string', minLength: 9, maxLength: 100, description: 'When to run: a 5-field cron expression in UTC (croner); or everyMs.' },
              everyMs: { type: 'integer', minimum: 60000, description: 'When to run: every this many ms (>= 1 minute); or cron.' },
              rangeMs: {
                type: 'integer',
                minimum: 60000,
                maximum: 31622400000,
                default: 86400000,
                description: 'The period each report covers: this many ms ending at the run (ms).',
              },
              formats: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { enum: ['json', 'csv', 'html', 'pdf'] },
                default: ['json', 'pdf'],
                description: 'Formats kept for each run.',
              },
              namespaces: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 }, default: [], description: 'Scope: namespaces (empty: all).' },
              zones: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 }, default: [], description: 'Scope: policy zones (empty: all).' },
            },
          },
        },
      },
    },
    bus: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kind: { enum: ['memory', 'kafka'], default: 'memory', description: 'Bus adapter.' },
        brokers: { type: 'array', items: { type: 'string' }, default: ['127.0.0.1:9092'], description: 'Kafka bootstrap brokers.' },
        partitions: { type: 'integer', minimum: 1, default: 4, description: 'Partitions per topic.' },
        topicPrefix: {
          type: 'string',
          pattern: '^[a-zA-Z0-9._-]*$',
          maxLength: 200,
          default: '',
          description:
            'Kafka only: prepended to every topic name (`staging.` -> `staging.floe.flows.v1`), so deployments or test runs sharing one cluster stay apart. Consumer groups are not prefixed. The in-process bus is private to its process and ignores it.',
        },
        consumerRestarts: {
          type: 'integer',
          minimum: 0,
          maximum: 1000,
          default: 10,
          description:
            'Kafka only: restarts of a crashed consumer in a row (no batch committed in between) before it is given up; then health turns false and the process exits 1.',
        },
      },
    },
    alert: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Alert sinks and the routes findings take to them (packages/alert/README.md).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Send alerts (the processor role) when routes are configured.' },
        groupWaitMs: {
          type: 'integer',
          minimum: 0,
          default: 10000,
          description: "Wait after a group's first finding before its first notification (ms; Alertmanager group_wait).",
        },
        groupIntervalMs: {
          type: 'integer',
          minimum: 0,
          default: 300000,
          description:
            "Least time between two notifications of one group; a repeat (same detector and entity, e.g. a finding's updates) inside it is not sent again (ms; Alertmanager group_interval).",
        },
        resendIntervalMs: {
          type: 'integer',
          minimum: 1000,
          default: 60000,
          description: 'Alertmanager sinks re-send each active alert this often (ms); its endsAt is 3 times this ahead.',
        },
        resolveAfterMs: {
          type: 'integer',
          minimum: 1000,
          default: 600000,
          description: 'An alert whose finding had no update for this long is resolved in Alertmanager (endsAt) (ms).',
        },
        queueSize: {
          type: 'integer',
          minimum: 1,
          maximum: 1000000,
          default: 1000,
          description: 'Deliveries waiting per sink; more are dropped and counted (floe_alert_dropped_total{cause="queue-full"}).',
        },
        drainTimeoutMs: { type: 'integer', minimum: 0, default: 5000, description: 'Longest wait at shutdown for the sink queues to drain (ms); what is left is dead-lettered.' },
        retry: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            retries: { type: 'integer', minimum: 0, maximum: 100, default: 5, description: 'Retries of one delivery before it is dead-lettered and the sink marked down.' },
            minDelayMs: { type: 'integer', minimum: 1, default: 500, description: 'First retry delay (ms); each next one times factor, with random jitter (x1..2).' },
            maxDelayMs: { type: 'integer', minimum: 1, default: 30000, description: 'Longest retry delay (ms).' },
            factor: { type: 'number', minimum: 1, default: 2, description: 'Backoff factor between retries.' },
          },
        },
        deadLetter: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            file: {
              type: 'string',
              minLength: 1,
              description: 'JSON-lines file of dead letters (absent: kept in memory only); read at start, so a restart redelivers what is within the window.',
            },
            redeliverWithinMs: {
              type: 'integer',
              minimum: 0,
              default: 86400000,
              description: 'Dead letters younger than this are redelivered once their sink is back; older ones are dropped (counted, cause expired) (ms).',
            },
            probeIntervalMs: { type: 'integer', minimum: 100, default: 30000, description: 'How often a down sink is probed with its oldest dead letter (ms).' },
          },
        },
        sinks: {
          type: 'object',
          default: {},
          description: 'Sinks by name (a route names them).',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: {
                enum: ['webhook', 'slack', 'syslog', 'alertmanager'],
                description: 'webhook (signed JSON), slack (incoming webhook), syslog (RFC 5424 + CEF), alertmanager (v2 API).',
              },
              url: { type: 'string', pattern: '^https?://', description: 'webhook, slack: the URL posted to; alertmanager: its base URL (…/api/v2/alerts is appended).' },
              secret: { type: 'string', minLength: 16, description: 'webhook: HMAC-SHA256 key of the floe-signature header (prefer secretFile).' },
              secretFile: { type: 'string', minLength: 1, description: 'webhook: file holding the HMAC key (trimmed).' },
              transport: { enum: ['udp', 'tcp', 'tls'], description: 'syslog: UDP (RFC 5426), TCP octet counting (RFC 6587), TLS (RFC 5425).' },
              host: { type: 'string', minLength: 1, description: 'syslog: receiver host.' },
              port: { type: 'integer', minimum: 1, maximum: 65535, description: 'syslog: receiver port (514 UDP/TCP, 6514 TLS by convention).' },
              facility: { type: 'integer', minimum: 0, maximum: 23, description: 'syslog: RFC 5424 facility (default 10, authpriv).' },
              caFile: { type: 'string', minLength: 1, description: 'syslog tls: CA certificate (PEM) that verifies the receiver (default: system CAs).' },
              certFile: { type: 'string', minLength: 1, description: 'syslog tls: client certificate (PEM).' },
              keyFile: { type: 'string', minLength: 1, description: 'syslog tls: client key (PEM).' },
              serverName: { type: 'string', minLength: 1, description: 'syslog tls: name checked in the receiver certificate (default: host when a name).' },
              generatorUrl: { type: 'string', description: 'alertmanager: generatorURL of each alert; {id} is replaced by the finding id.' },
              timeoutMs: { type: 'integer', minimum: 1, default: 10000, description: 'Per-attempt timeout (ms).' },
            },
            // the keys each type requires: url for the HTTP sinks, transport/host/port for syslog
            anyOf: [
              { properties: { type: { enum: ['webhook', 'slack', 'alertmanager'] } }, required: ['url'] },
              { properties: { type: { const: 'syslog' } }, required: ['transport', 'host', 'port'] },
            ],
          },
        },
        routes: {
          type: 'array',
          default: [],
          description: 'Routes: every route whose conditions all hold sends the finding to its sinks.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sinks'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', description: 'Name in logs and metrics (default route<index>).' },
              minSeverity: { enum: ['info', 'low', 'medium', 'high', 'critical'], description: 'Lowest severity routed (default info).' },
              detectors: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'Detector ids or globs (portscan.*); absent: any.' },
              namespaces: {
                type: 'array',
                items: { type: 'string', minLength: 1 },
                description: 'Namespaces (entity, srcMeta, dstMeta); absent: any; a finding without a namespace does not match.',
              },
              sinks: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Sink names.' },
              groupBy: { type: 'array', items: { enum: ['detector', 'entity', 'severity', 'namespace'] }, description: 'Group key fields (default detector, entity).' },
              groupWaitMs: { type: 'integer', minimum: 0, description: "This route's group wait (ms)." },
              groupIntervalMs: { type: 'integer', minimum: 0, description: "This route's group interval (ms)." },
            },
          },
        },
      },
    },
    triage: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        syncIntervalMs: {
          type: 'integer',
          minimum: 100,
          maximum: 3600000,
          default: 5000,
          description:
            "How often each process re-reads the run-time never-block list and the suppression rules from the store (ms); a change made through this process's API applies at once, other processes see it within this period.",
        },
      },
    },
  },
} as const;
