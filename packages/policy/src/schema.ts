/**
 * JSON schema (draft-07, checked with ajv) of policy file version 1, with every default.
 * Custom keywords check values that JSON schema cannot express well: `floeCidr` (CIDR text via
 * parseCidr), `floePort` (a port 0..65535 or an inclusive range "lo-hi"), `floeDuration`
 * (`<n>ms|s|m|h|d`). The semantic checks (zone names exist, and so on) are in validate.ts.
 */
import { SEVERITIES } from '@floe/flow';
import { PORT_PROTOCOLS } from './types.js';

const cidrList = { type: 'array', items: { type: 'string', floeCidr: true }, default: [] } as const;
const portList = { type: 'array', items: { floePort: true }, minItems: 1 } as const;
const severity = (d: string) => ({ type: 'string', enum: [...SEVERITIES], default: d }) as const;
const duration = (d: string) => ({ type: 'string', floeDuration: true, default: d }) as const;
/**
 * One windowed detector's section: `windowMs` (sliding event-time window, ms), the distinct-count
 * threshold under `threshold`, severity, and `updateOnDouble` (raise the finding again, same id,
 * when the count doubles).
 */
const windowDetector = <K extends 'minPorts' | 'minHosts'>(threshold: K, dflt: number) =>
  ({
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      windowMs: { type: 'integer', minimum: 1000, default: 60000 },
      ...({ [threshold]: { type: 'integer', minimum: 2, default: dflt } } as Record<K, { type: 'integer'; minimum: 2; default: number }>),
      severity: severity('high'),
      updateOnDouble: { type: 'boolean', default: true },
    },
  }) as const;

/** meta/v1 LabelSelector as a NetworkPolicy writes it (Kubernetes "Labels and Selectors"). */
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', minLength: 1 },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

const portRule = {
  type: 'object',
  additionalProperties: false,
  required: ['protocol', 'ports'],
  properties: {
    protocol: { type: 'string', enum: [...PORT_PROTOCOLS] },
    ports: portList,
  },
} as const;

/** Kubernetes control-plane ports and the NodePort range (kubernetes.io "Ports and Protocols"). */
export const K8S_CONTROL_PLANE_PORTS: Array<number | string> = [6443, '2379-2380', 10250, 10257, 10259, '30000-32767'];

/** The policy schema. Defaults here are the policy defaults; policies/default.yaml spells them out and a test keeps both equal. */
export const policySchema = {
  $id: 'https://floe.dev/schemas/policy-v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { const: 1 },
    name: { type: 'string' },
    networks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        pods: cidrList,
        services: cidrList,
        nodes: cidrList,
        controlPlane: cidrList,
        zones: {
          type: 'object',
          default: {},
          propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_.-]*$' },
          additionalProperties: { ...cidrList, default: undefined },
        },
        selectorZones: {
          type: 'object',
          default: {},
          propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_.-]*$' },
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: { namespaceSelector: labelSelector, podSelector: labelSelector },
          },
        },
      },
    },
    ingress: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        severity: severity('medium'),
        default: {
          type: 'array',
          items: portRule,
          default: [
            { protocol: 'tcp', ports: K8S_CONTROL_PLANE_PORTS },
            { protocol: 'udp', ports: ['30000-32767'] },
          ],
        },
        zones: { type: 'object', default: {}, additionalProperties: { type: 'array', items: portRule } },
      },
    },
    egress: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        severity: severity('medium'),
        allow: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['to'],
            properties: {
              to: { ...cidrList, default: undefined, minItems: 1 },
              protocol: { type: 'string', enum: [...PORT_PROTOCOLS] },
              ports: portList,
            },
          },
        },
      },
    },
    blocklists: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        severity: severity('high'),
        cidrs: cidrList,
        files: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
      },
    },
    namespaces: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: 'boolean', default: true },
        severity: severity('medium'),
        sameNamespace: { type: 'boolean', default: true },
        allow: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to'],
            properties: {
              from: { type: 'string', minLength: 1 },
              to: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
            },
          },
        },
      },
    },
    rules: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        metadataApi: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            severity: severity('high'),
            addrs: { ...cidrList, default: ['169.254.169.254', 'fd00:ec2::254'] },
            allowFrom: cidrList,
            allowNamespaces: { type: 'array', items: { type: 'string', minLength: 1 }, default: [] },
          },
        },
        etcdAccess: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            severity: severity('critical'),
            ports: { ...portList, default: ['2379-2380'] },
          },
        },
      },
    },
    detectors: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // 15 ports: Zeek scan.zeek's port_scan_threshold; 16 hosts: floe's choice
        portscan: windowDetector('minPorts', 15),
        hostsweep: windowDetector('minHosts', 16),
        // 25 pairs: Zeek bro-simple-scan's scan_threshold (unique host+port attempts of a remote
        // scanner); > 5 hosts and > 5 ports: its Random_Scan notice; 5 min: Zeek scan.zeek's intervals
        randomScan: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            windowMs: { type: 'integer', minimum: 1000, default: 300000 },
            minPairs: { type: 'integer', minimum: 2, default: 25 },
            minHosts: { type: 'integer', minimum: 1, default: 6 },
            minPorts: { type: 'integer', minimum: 1, default: 6 },
            severity: severity('high'),
            updateOnDouble: { type: 'boolean', default: true },
          },
        },
        // bruteforce.auth: fail2ban sshd jail's findtime (10m) at Zeek's rate (password_guesses_limit
        // 30 per guessing_timeout 30 min); 51 client packets: SSHCure's brute-force flows (11-51 per flow)
        bruteforce: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            windowMs: { type: 'integer', minimum: 1000, default: 600000 },
            minFailures: { type: 'integer', minimum: 2, default: 10 },
            ports: {
              type: 'array',
              items: { type: 'integer', minimum: 1, maximum: 65535 },
              minItems: 1,
              default: [21, 22, 23, 110, 143, 389, 445, 587, 636, 993, 995, 1433, 1521, 2379, 3306, 3389, 5432, 5900, 5985, 5986, 6443, 27017],
            },
            maxPackets: { type: 'integer', minimum: 1, default: 51 },
            // 4000 client bytes: floe's choice, measured (hydra's failed logins 1.8-2.5 kB, OpenSSH key logins 4.9-6.8 kB: test/e2e/captures)
            maxClientBytes: { type: 'integer', minimum: 1, default: 4000 },
            // 0: connections are judged at their DESTROY (by counters), not at their close
            maxDurationMs: { type: 'integer', minimum: 0, default: 0 },
            severity: severity('high'),
            updateOnDouble: { type: 'boolean', default: true },
          },
        },
        // dos.synflood: 200 half-open in 10 s = 20/s, the Suricata threshold example for hping3 floods (track by_dst, count 100, seconds 5)
        synflood: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            windowMs: { type: 'integer', minimum: 1000, default: 10000 },
            minHalfOpen: { type: 'integer', minimum: 2, default: 200 },
            dominantShare: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
            severity: severity('high'),
            updateOnDouble: { type: 'boolean', default: true },
          },
        },
        // beacon.periodic: RITA's interval dispersion (MAD / median); 0.2 admits ±40 % uniform jitter, rejects Poisson arrivals (0.69)
        beacon: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            windowMs: { type: 'integer', minimum: 1000, default: 3600000 },
            minConnections: { type: 'integer', minimum: 3, default: 10 },
            minIntervalMs: { type: 'integer', minimum: 0, default: 1000 },
            maxJitter: { type: 'number', minimum: 0, maximum: 10, default: 0.2 },
            historySize: { type: 'integer', minimum: 3, maximum: 1024, default: 24 },
            egressOnly: { type: 'boolean', default: true },
            severity: severity('medium'),
            updateOnDouble: { type: 'boolean', default: true },
          },
        },
        // The ML detector (ml.autoencoder, @floe/model): off until `dir` names a model trained by `floe train`.
        model: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            dir: { type: 'string', minLength: 1 },
            // medium: below respond.minSeverity's high, so a model finding alone informs and does not block (floe's choice)
            severity: severity('medium'),
            topFeatures: { type: 'integer', minimum: 1, maximum: 50, default: 5 },
            minFlows: { type: 'integer', minimum: 1, default: 1 },
          },
        },
        // Sources of these defaults: packages/detect exfil.ts, dns-volume.ts, lateral.ts.
        exfil: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            windowMs: { type: 'integer', minimum: 1000, default: 300000 },
            minBytes: { type: 'integer', minimum: 1, default: 50000000 },
            sigmas: { type: 'number', exclusiveMinimum: 0, default: 3 },
            alpha: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.1 },
            learnWindows: { type: 'integer', minimum: 1, default: 6 },
            minPcr: { type: 'number', minimum: -1, maximum: 1, default: 0.4 },
            severity: severity('high'),
          },
        },
        dns: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            resolvers: cidrList,
            resolverSeverity: severity('medium'),
            volume: { type: 'boolean', default: true },
            windowMs: { type: 'integer', minimum: 1000, default: 60000 },
            maxQueries: { type: 'integer', minimum: 1, default: 600 },
            minQueries: { type: 'integer', minimum: 1, default: 100 },
            sigmas: { type: 'number', exclusiveMinimum: 0, default: 4 },
            alpha: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.1 },
            learnWindows: { type: 'integer', minimum: 1, default: 6 },
            maxResolvers: { type: 'integer', minimum: 2, default: 4 },
            volumeSeverity: severity('medium'),
          },
        },
        lateral: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            learnMs: { type: 'integer', minimum: 0, default: 86400000 },
            windowMs: { type: 'integer', minimum: 1000, default: 3600000 },
            manyPeers: { type: 'integer', minimum: 2, default: 10 },
            severity: severity('medium'),
            manySeverity: severity('high'),
          },
        },
      },
    },
    respond: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        minSeverity: severity('high'),
        ttl: duration('1h'),
        escalation: { type: 'array', items: { type: 'string', floeDuration: true }, minItems: 1, default: ['1h', '4h', '24h'] },
        maxNewBlocksPerMinute: { type: 'integer', minimum: 0, default: 30 },
        dryRun: { type: 'boolean', default: false },
        neverBlock: cidrList,
        // shortest block prefix: /16 holds 65 536 IPv4 addresses; /32 is one RIR allocation (RFC 6177)
        minPrefixLength: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            // Hard floor: /8 (IPv4) and /16 (IPv6); below the defaults /16 and /32 policyWarnings warns.
            ipv4: { type: 'integer', minimum: 8, maximum: 32, default: 16 },
            ipv6: { type: 'integer', minimum: 16, maximum: 128, default: 32 },
          },
        },
        blockOnAcceptedLogs: { type: 'boolean', default: false },
      },
    },
  },
} as const;

/** Schema of an inventory file (see loadInventoryFile). */
export const inventorySchema = {
  $id: 'https://floe.dev/schemas/inventory-v1.json',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'endpoints'],
  properties: {
    version: { const: 1 },
    endpoints: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['addr'],
        properties: {
          addr: { type: 'string', floeCidr: true },
          namespace: { type: 'string', minLength: 1 },
          workload: { type: 'string', minLength: 1 },
          pod: { type: 'string', minLength: 1 },
          node: { type: 'string', minLength: 1 },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  },
} as const;
