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
          maximum: 1073741824,
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
            'Bearer token POST and DELETE /v1/decisions require (`Authorization: Bearer <token>`); 16+ printable ASCII characters, no spaces. Absent (and no tokenFile): no authentication. Prefer FLOE_API_TOKEN or tokenFile to writing it in a file others read.',
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
        url: { type: 'string', default: 'http://127.0.0.1:8123', description: 'ClickHouse HTTP URL.' },
        database: { type: 'string', default: 'floe', description: 'ClickHouse database.' },
        retentionDays: { type: 'integer', minimum: 1, default: 30, description: 'Days flows are kept.' },
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
  },
} as const;
