import type { AlertConfig, SinkConfig } from '@floe/alert';
import { escapeText, quoteExcerpt, readBoundedText, readFailure } from '@floe/flow';
import { hostname } from 'node:os';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument, LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { configSchema } from './schema.js';

/** API roles, least to most privileged (packages/api identity.ts). */
export type ApiRoleName = 'viewer' | 'analyst' | 'admin';

/** The validated configuration of one floe process (see schema.ts for every key's meaning). */
export interface FloeConfig {
  node: string;
  log: { level: string };
  policyFile?: string;
  inventoryFile?: string;
  collector: {
    conntrack: { enabled: 'auto' | 'on' | 'off'; command: string; netns?: string; bufferBytes: number };
    /** Replay of a capture file instead of live events (`file` absent: live). speed 0 = no waiting. */
    replay: { file?: string; format: 'auto' | 'conntrack' | 'conntrack-xml' | 'kernel-log' | 'ulogd-json'; speed: number; exitWhenDone: boolean };
    batchSize: number;
    flushMs: number;
    /** Longest input line (bytes). */
    maxLineBytes: number;
    /** Silence bound of a live source (ms, 0 = off). */
    silentAfterMs: number;
  };
  /** `crds`: the FloePolicy / FloeNeverBlock watcher (packages/kubeconfig); `kubeconfig` absent = in-cluster. */
  processor: { storeFlows: boolean; group: string; crds: { enabled: boolean; kubeconfig?: string; namespace: string; policyName: string } };
  /** Kubernetes enrichment (packages/kube). */
  kube: { enabled: boolean; kubeconfig?: string; inCluster: boolean; graceMs: number; networkPolicies: boolean };
  enforcer: { enabled: boolean; dryRun: boolean; reconcileIntervalMs: number; netns?: string; table: string };
  /** `token` / `tokenFile`: bearer token for the API's block/unblock routes (absent: none); see schema.ts. */
  api: {
    enabled: boolean;
    host: string;
    port: number;
    token?: string;
    tokenFile?: string;
    allowUnauthenticated: boolean;
    /** Role of the shared token. */
    tokenRole: ApiRoleName;
    /** Role of a request without a token; absent: admin when no token and no OIDC is configured, else none. */
    anonymousRole?: ApiRoleName | 'none';
    metricsRequireAuth: boolean;
    rateLimit: { perAddress: number; perToken: number; windowMs: number };
    /** PEM files; both set: HTTPS. */
    tls: { cert?: string; key?: string };
    /** OIDC bearer tokens (issuer absent: off). */
    oidc: { issuer?: string; audience?: string; jwksUri?: string; roleClaim: string; roles: Record<string, ApiRoleName>; clockToleranceSec: number };
  };
  /** Health endpoint of each role main (ports per role, so roles sharing a host network do not collide). */
  health: { host: string; collectorPort: number; processorPort: number; enforcerPort: number; apiPort: number; shutdownTimeoutMs: number };
  store: { kind: 'duckdb' | 'clickhouse'; path: string; threads: number; url: string; database: string; retentionDays: number };
  /** `topicPrefix`: Kafka topic name prefix ('' = none), see schema.ts. */
  bus: { kind: 'memory' | 'kafka'; brokers: string[]; partitions: number; topicPrefix: string; consumerRestarts: number };
  /** Alert sinks and routes (the shape @floe/alert's AlertConfig takes); see schema.ts. */
  alert: AlertSection;
  /** Re-read period of the run-time never-block list and suppression rules (ms), see schema.ts. */
  triage: { syncIntervalMs: number };
  /** Compliance reports (@floe/report): where they are kept, the cluster label, schedules; see schema.ts. */
  report: { dir: string; cluster?: string; schedules: ReportScheduleConfig[] };
}

/** One scheduled report: `cron` (5 fields, UTC) or `everyMs`; the period is the `rangeMs` before each run. */
export interface ReportScheduleConfig {
  name: string;
  cron?: string;
  everyMs?: number;
  rangeMs: number;
  formats: Array<'json' | 'csv' | 'html' | 'pdf'>;
  namespaces: string[];
  zones: string[];
}

/**
 * The `alert` section (see schema.ts for each key; durations are ms): the options of @floe/alert's
 * dispatcher, declared once there (`AlertConfig`), validated here.
 */
export type AlertSection = AlertConfig;

/** One sink of `alert.sinks`, by type (schema.ts requires url for the HTTP ones, transport/host/port for syslog). */
export type AlertSinkSection = SinkConfig;

/** A configuration mistake, with where it was made. */
export class ConfigError extends Error {
  readonly code = 'FLOE_CONFIG_INVALID';
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validate = ajv.compile(configSchema);

/** The defaults: what `{}` validates to, plus the hostname as node. */
export function defaultConfig(): FloeConfig {
  return finish({}, []);
}

/**
 * Loads the configuration: the YAML file (if given), then environment variables, then
 * `overrides` (command-line flags), validated against the schema and deep-frozen.
 * Environment: `FLOE_<SECTION>_<KEY>` in upper snake case (FLOE_API_PORT=9090,
 * FLOE_ENFORCER_DRY_RUN=true, FLOE_BUS_BROKERS=a:9092,b:9092, FLOE_NODE=n1); the value is parsed
 * by the schema's type of that key. With `strictEnv`, a `FLOE_*` variable that names no key
 * (see {@link configEnvNames}) is an error too; otherwise such variables are ignored (tests and
 * scripts use some, such as FLOE_REQUIRE_KAFKA).
 * @throws ConfigError naming the file, line and key, or the environment variable, at fault.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Obj; strictEnv?: boolean } = {}): FloeConfig {
  const issues: string[] = [];
  let base: Obj = {};
  let lineOf: (path: string) => string = () => '';
  if (opts.file) {
    let text: string;
    try {
      text = readBoundedText(opts.file);
    } catch (e) {
      throw new ConfigError([`${escapeText(opts.file)}: cannot read: ${readFailure(e)}`]);
    }
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    if (doc.errors.length) {
      throw new ConfigError(doc.errors.map((e) => `${escapeText(opts.file as string)}:${e.linePos?.[0]?.line ?? '?'}: ${escapeText(e.message.split('\n')[0].slice(0, 200))}`));
    }
    let js: Json;
    try {
      js = doc.toJS({ maxAliasCount: 100 }) as Json;
    } catch (e) {
      // yaml throws (ReferenceError "Excessive alias count…") on an alias bomb: one line, no stack.
      throw new ConfigError([`${escapeText(opts.file)}: ${escapeText((e as Error).message.split('\n')[0].slice(0, 200))}`]);
    }
    if (js !== null && (typeof js !== 'object' || Array.isArray(js))) throw new ConfigError([`${opts.file}:1: the configuration must be a mapping`]);
    base = (js ?? {}) as Obj;
    lineOf = (path) => {
      const parts = path.split('/').filter(Boolean);
      let node: YamlNode | null | undefined = doc.contents as YamlNode | null;
      let last = node;
      for (const p of parts) {
        if (isMap(node)) node = node.get(p, true) as YamlNode | undefined;
        else if (isSeq(node)) node = node.get(Number(p), true) as YamlNode | undefined;
        else break;
        if (node) last = node;
      }
      const off = last?.range?.[0];
      return off === undefined ? `${opts.file}` : `${opts.file}:${lc.linePos(off).line}`;
    };
    // Before the environment walk and the defaults build on them: a section or nested object
    // given as a scalar, a list or null is refused here, with its file:line.
    const shapeIssues: string[] = [];
    refuseNonObjects(base, configSchema as SchemaNode, '', shapeIssues, lineOf);
    if (shapeIssues.length) throw new ConfigError(shapeIssues);
  }
  const env = opts.env ?? process.env;
  // Which keys an environment variable set: their errors name the variable, not the file.
  const envOf = new Map<string, string>();
  applyEnv(base, env, issues, envOf);
  const fileLineOf = lineOf;
  lineOf = (path) => {
    const name = envOf.get(path);
    return name !== undefined && !setIn(opts.overrides, path) ? `environment ${name}:` : fileLineOf(path);
  };
  if (opts.strictEnv) {
    for (const name of unknownEnvNames(env)) issues.push(`environment ${name}: not a configuration key (see floe config --describe)`);
  }
  if (opts.overrides) merge(base, opts.overrides);
  return finish(base, issues, lineOf);
}

function finish(obj: Obj, issues: string[], lineOf: (p: string) => string = () => '<defaults>'): FloeConfig {
  const cfg = structuredClone(obj);
  if (!validate(cfg)) {
    for (const e of validate.errors as ErrorObject[]) {
      const field =
        (e.instancePath.slice(1).replace(/\//g, '.') || '(top)') +
        (e.keyword === 'additionalProperties' ? `.${(e.params as { additionalProperty: string }).additionalProperty}` : '');
      const why =
        e.keyword === 'additionalProperties'
          ? 'unknown key'
          : e.keyword === 'enum'
            ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
            : e.message;
      issues.push(`${lineOf(e.instancePath)} ${escapeText(field.slice(0, 200))}: ${why}`);
    }
  }
  if (issues.length) throw new ConfigError(issues);
  const out = cfg as unknown as FloeConfig;
  out.node ??= hostname();
  return deepFreeze(out);
}

/** Whether `obj` has a value at the JSON-pointer-like `path` (`/log/level`). */
function setIn(obj: Obj | undefined, path: string): boolean {
  let v: unknown = obj;
  for (const p of path.split('/').filter(Boolean)) {
    if (v === null || typeof v !== 'object' || !(p in (v as Obj))) return false;
    v = (v as Obj)[p];
  }
  return obj !== undefined;
}

function applyEnv(base: Obj, env: NodeJS.ProcessEnv, issues: string[], envOf: Map<string, string>): void {
  const props = configSchema.properties as Record<string, SchemaNode>;
  const walk = (schemaProps: Record<string, SchemaNode>, prefix: string, target: Obj, at: string) => {
    for (const [key, sub] of Object.entries(schemaProps)) {
      const name = `${prefix}_${snake(key)}`;
      if (sub.type === 'object' && sub.properties) {
        const child = (target[key] ??= {}) as Obj;
        walk(sub.properties, name, child, `${at}/${key}`);
        if (Object.keys(child).length === 0) delete target[key];
        continue;
      }
      if (holdsObjects(sub)) continue; // maps and lists of objects (alert.sinks, alert.routes): file only
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      // a secret's value is never echoed (the rule of `floe config --print`, SECRET_KEYS)
      const shown = isSecretKey(`${at}/${key}`.slice(1).replace(/\//g, '.')) ? `${name} (value hidden)` : `${name}=${quoteExcerpt(raw)}`;
      const v = parseEnv(raw, sub);
      if (v === undefined) issues.push(`environment ${shown}: not a valid ${sub.type ?? 'value'}`);
      else {
        target[key] = v;
        envOf.set(`${at}/${key}`, shown);
      }
    }
  };
  walk(props, 'FLOE', base, '');
}

/**
 * The secret keys, named as `floe config --describe` names them (`<name>`: any entry of a map):
 * the API's shared bearer token and a webhook sink's HMAC key. Their values are never shown:
 * `floe config --print` prints `<redacted>` ({@link redactSecrets}) and configuration errors say
 * `(value hidden)` instead of the value.
 */
export const SECRET_KEYS: readonly string[] = Object.freeze(['api.token', 'alert.sinks.<name>.secret']);

/** Whether the key `dotted` (`api.token`, `alert.sinks.<name>.secret`, as in {@link SECRET_KEYS}) holds a secret. */
export function isSecretKey(dotted: string): boolean {
  return SECRET_KEYS.includes(dotted);
}

/**
 * A copy of `cfg` (same key order) whose secret values ({@link SECRET_KEYS}) that are set read
 * `<redacted>`; what `floe config --print` prints. `cfg` itself is not changed.
 */
export function redactSecrets(cfg: FloeConfig): Record<string, unknown> {
  const copy = structuredClone(cfg) as unknown as Obj;
  const walk = (o: Obj, s: SchemaNode, key: string) => {
    for (const [k, v] of Object.entries(o)) {
      const sub = childSchema(s, k);
      const dotted = `${key ? `${key}.` : ''}${s.properties?.[k] ? k : '<name>'}`;
      if (isSecretKey(dotted)) {
        if (v !== undefined && v !== null) o[k] = '<redacted>';
      } else if (sub?.type === 'object' && v && typeof v === 'object' && !Array.isArray(v)) walk(v, sub, dotted);
    }
  };
  walk(copy, configSchema as SchemaNode, '');
  return copy;
}

/**
 * Every environment variable loadConfig reads, `FLOE_<SECTION>_<KEY>` in upper snake case,
 * in schema order (FLOE_NODE, FLOE_LOG_LEVEL, …, FLOE_BUS_PARTITIONS).
 */
export function configEnvNames(): string[] {
  const names: string[] = [];
  const walk = (props: Record<string, SchemaNode>, prefix: string) => {
    for (const [key, sub] of Object.entries(props)) {
      const name = `${prefix}_${snake(key)}`;
      if (sub.type === 'object' && sub.properties) walk(sub.properties, name);
      else if (!holdsObjects(sub)) names.push(name);
    }
  };
  walk(configSchema.properties as Record<string, SchemaNode>, 'FLOE');
  return names;
}

/** Names of `FLOE_*` variables in `env` that are not configuration keys (typos, other tools' flags), sorted. */
export function unknownEnvNames(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(configEnvNames());
  return Object.keys(env)
    .filter((k) => k.startsWith('FLOE_') && !known.has(k) && !isToolingEnvName(k))
    .sort();
}

/**
 * `FLOE_*` variables of the project's own scripts, tests and benchmarks (not configuration keys,
 * never warned about): FLOE_REQUIRE_KAFKA / FLOE_REQUIRE_CLICKHOUSE (.ci/run), FLOE_CACHE and
 * FLOE_KAFKA_DIR / FLOE_KUBE_DIR (deploy/dev), FLOE_KAFKA_BROKER / FLOE_CLICKHOUSE_URL (tests against other
 * servers), FLOE_REQUIRE_KUBE / FLOE_KUBECONFIG / FLOE_KUBECTL (the dev API server of deploy/dev/kube.sh), FLOE_FUZZ_* (fuzzing budgets), FLOE_TEST_* and FLOE_BENCH_* and FLOE_NOLOSS_*.
 */
export const TOOLING_ENV_NAMES: readonly string[] = Object.freeze([
  'FLOE_REQUIRE_KAFKA',
  'FLOE_REQUIRE_CLICKHOUSE',
  'FLOE_CACHE',
  'FLOE_KAFKA_DIR',
  'FLOE_KAFKA_BROKER',
  'FLOE_CLICKHOUSE_URL',
  'FLOE_REQUIRE_KUBE',
  'FLOE_KUBECONFIG',
  'FLOE_KUBECTL',
  'FLOE_KUBE_DIR',
]);
const TOOLING_ENV_PREFIXES = ['FLOE_FUZZ_', 'FLOE_TEST_', 'FLOE_BENCH_', 'FLOE_NOLOSS_'];

/** Whether `name` is a variable of floe's own tooling (see TOOLING_ENV_NAMES), not a misspelt key. */
export function isToolingEnvName(name: string): boolean {
  return TOOLING_ENV_NAMES.includes(name) || TOOLING_ENV_PREFIXES.some((p) => name.startsWith(p));
}

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  enum?: readonly string[];
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
}

/**
 * Walks `value` (a JSON value of the file) along the schema `s` and pushes one issue
 * (`file:line dotted.key: must be an object`) for every place the schema wants an object (a
 * section, a nested object, an entry of a map or list of objects) and the file holds a scalar,
 * a list or null. Absent keys are fine (defaults fill them). `at` is the JSON-pointer path
 * (`/api/rateLimit`) of `value`.
 */
function refuseNonObjects(value: Json | undefined, s: SchemaNode, at: string, issues: string[], lineOf: (path: string) => string): void {
  if (value === undefined) return;
  if (s.type === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      issues.push(`${lineOf(at)} ${escapeText(at.slice(1).replace(/\//g, '.').slice(0, 200) || '(top)')}: must be an object`);
      return;
    }
    for (const [k, v] of Object.entries(value)) {
      const sub = childSchema(s, k);
      if (sub) refuseNonObjects(v, sub, `${at}/${k}`, issues, lineOf);
    }
  } else if (s.type === 'array' && s.items && Array.isArray(value)) {
    value.forEach((v, i) => refuseNonObjects(v, s.items as SchemaNode, `${at}/${i}`, issues, lineOf));
  }
}

/** The schema of key `k` of an object of schema `s`: its own property, else the map's entry schema, else none. */
function childSchema(s: SchemaNode, k: string): SchemaNode | undefined {
  return s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
}

/** A map or list whose entries are objects (alert.sinks, alert.routes): set in the file, not by an environment variable. */
function holdsObjects(s: SchemaNode): boolean {
  const entry = typeof s.additionalProperties === 'object' ? s.additionalProperties : s.items;
  return entry?.type === 'object';
}

function parseEnv(raw: string, s: SchemaNode): Json | undefined {
  switch (s.type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    case 'number':
      return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : undefined;
    case 'boolean':
      return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : undefined;
    case 'array':
      return raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

function snake(k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function merge(into: Obj, from: Obj): void {
  for (const [k, v] of Object.entries(from)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object' && !Array.isArray(into[k])) merge(into[k] as Obj, v as Obj);
    else into[k] = v;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Documentation of every key: [dotted key, default, description], from the schema. */
export function describeConfig(): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [];
  const walk = (props: Record<string, SchemaNode & { default?: unknown; description?: string }>, prefix: string) => {
    for (const [k, s] of Object.entries(props)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (s.type === 'object' && s.properties) walk(s.properties as typeof props, key);
      else {
        rows.push([key, s.default === undefined ? '' : JSON.stringify(s.default), s.description ?? '']);
        // maps and lists of objects (alert.sinks, alert.routes): their entries' keys too
        const entry = typeof s.additionalProperties === 'object' ? s.additionalProperties : s.items;
        if (holdsObjects(s) && entry?.properties) walk(entry.properties as typeof props, `${key}${s.type === 'array' ? '[]' : '.<name>'}`);
      }
    }
  };
  walk(configSchema.properties as never, '');
  return rows;
}
