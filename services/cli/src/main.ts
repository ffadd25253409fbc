import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig, describeConfig, ConfigError, configEnvNames, unknownEnvNames, redactSecrets } from '@floe/config';
import { createLogger } from '@floe/telemetry';
import { checkPolicyFile } from './policy-check.js';
import { suggestFromStore } from './policy-suggest.js';
import { analyzeFiles, parseMaxLineBytes, summaryLines, UsageError } from './analyze.js';
import { checkOutputFile, prepareOutputDir } from './output-path.js';
import { DEFAULT_MAX_LINE_BYTES, escapeText } from '@floe/flow';
import { runFloe } from './run.js';
import { storeInput, trainFromInputs } from './train.js';
import { createStore, requireExistingDuckDbStore } from '@floe/store';
import { storeConfigOf } from '@floe/runtime';
import { composeRoles, rolesOf, runService, ROLES, type Role } from '@floe/runtime';
import { FLOE_KIT } from './components.js';
import { evalCommand, parseFraction } from './eval.js';
import { evalModels } from './eval-model.js';
import { LABELLED_FORMATS } from '@floe/eval';
import { checkRange, parseFormats } from '@floe/report';
import { parseReportTime, reportCommand } from './report.js';
import { tokenCreate, tokenList, tokenRevoke } from './token.js';

const FORMATS = ['auto', 'conntrack', 'conntrack-xml', 'kernel-log', 'ulogd-json'] as const;
const out = (line: string) => {
  process.stdout.write(line + '\n');
};
const err = (line: string) => {
  process.stderr.write(line + '\n');
};
// `floe analyze --json | head`: a closed pipe ends the command quietly, as Unix tools do.
for (const s of [process.stdout, process.stderr]) {
  s.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/**
 * Warns about FLOE_* variables that name no configuration key (a misspelt FLOE_ENFORCER_DRYRUN
 * would otherwise be ignored in silence), with the closest real name. FLOE_REQUIRE_* are the
 * test suite's switches, not configuration.
 */
function warnUnknownEnv(): void {
  const known = configEnvNames();
  const squash = (n: string) => n.replace(/_/g, '');
  for (const name of unknownEnvNames(process.env)) {
    if (name.startsWith('FLOE_REQUIRE_') || name === 'FLOE_CLICKHOUSE_URL' || name === 'FLOE_KAFKA_BROKERS') continue;
    const near = known.find((k) => squash(k) === squash(name));
    err(`floe: warning: environment ${name} is not a configuration key and is ignored${near ? `; did you mean ${near}?` : ' (floe config --describe lists them)'}`);
  }
}

/** Slowest and fastest numeric --speed: 0.01 (100x slower than recorded) and 10000; `max` for no waiting. */
const SPEED_RANGE = [0.01, 10_000] as const;

function parseSpeed(v: string): number | 'max' {
  if (v === 'max') return 'max';
  const n = /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= SPEED_RANGE[0] && n <= SPEED_RANGE[1])) throw new InvalidArgumentError(`a positive number or "max": a decimal number ${SPEED_RANGE[0]}..${SPEED_RANGE[1]}`);
  return n;
}
function parsePort(v: string): number {
  const n = /^[0-9]{1,5}$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port 0-65535');
  return n;
}

const program = new Command('floe')
  .description('Flow-log IDS: conntrack/NFLOG flows -> policy and detectors -> findings -> nftables blocks')
  .version('0.1.0')
  .exitOverride()
  // commander echoes the argument it refuses (`unknown option '…'`): escaped, line by line.
  .configureOutput({
    outputError: (text, write) =>
      write(
        text
          .split('\n')
          .map((l) => escapeText(l.length > 200 ? `${l.slice(0, 200)}…` : l))
          .join('\n'),
      ),
  })
  .showHelpAfterError();

program
  .command('run')
  .description(
    'Run every role in one process on the embedded default (in-process bus, DuckDB store).\n' +
      'Reads live `conntrack -E` events when it can (root and the conntrack tool present);\n' +
      'otherwise it says so and replays the bundled sample capture.',
  )
  .option('-c, --config <file>', 'configuration YAML (see `floe config --describe`); FLOE_* variables override it')
  .option('--replay <file>', 'feed a capture file through the pipeline instead of live events')
  .addOption(new Option('--format <name>', 'format of the --replay file').choices(FORMATS).default('auto'))
  .option('--speed <n|max>', 'replay pace: 1 = as recorded, 10 = ten times faster, max = no waiting', parseSpeed, 1 as number | 'max')
  .option('--policy <file>', 'policy YAML (default: the embedded policy)')
  .option('--netns <name>', 'read conntrack and apply nftables inside this network namespace')
  .option('--dry-run', 'never touch nftables; log the blocks that would be applied')
  .option('--enforce', 'apply blocks in nftables even when replaying a capture (replays are dry-run by default)')
  .option('--api-port <port>', 'HTTP API port (default 8080; 0 = any free port)', parsePort)
  .option('--store <path>', 'DuckDB file (default data/floe.duckdb; ":memory:" keeps nothing)')
  .option('--exit-after-replay', 'stop once the replayed capture is processed')
  .action(async (o) => {
    const overrides: Record<string, unknown> = {};
    const set = (path: string[], v: unknown) => {
      let t = overrides as Record<string, unknown>;
      for (const p of path.slice(0, -1)) t = (t[p] ??= {}) as Record<string, unknown>;
      t[path[path.length - 1]] = v;
    };
    if (o.policy) set(['policyFile'], o.policy);
    if (o.netns) {
      set(['collector', 'conntrack', 'netns'], o.netns);
      set(['enforcer', 'netns'], o.netns);
    }
    if (o.dryRun) set(['enforcer', 'dryRun'], true);
    if (o.apiPort !== undefined) set(['api', 'port'], o.apiPort);
    if (o.store) set(['store', 'path'], o.store);
    warnUnknownEnv();
    const cfg = loadConfig({ file: o.config, overrides: overrides as never });
    const log = createLogger({ level: cfg.log.level });
    await runFloe(cfg, { replay: o.replay, format: o.format, speed: o.speed, enforce: !!o.enforce, exitAfterReplay: !!o.exitAfterReplay }, log, out);
  });

program
  .command('serve')
  .description(
    'Run one role as its own process (what services/<role>/dist/main.js runs), with its health endpoint\n' +
      "on health.host and the role's health port. Exit 0 after SIGINT/SIGTERM, 2 for a bad configuration, 1 on a failure.",
  )
  .addOption(new Option('--role <role>', 'the role to run').choices([...ROLES]).makeOptionMandatory())
  .option('-c, --config <file>', 'configuration YAML; FLOE_* variables override it')
  .option('--check', 'validate the configuration and exit')
  .action(async (o: { role: Role; config?: string; check?: boolean }) => {
    const argv = [...(o.config ? ['-c', o.config] : []), ...(o.check ? ['--check'] : [])];
    await runService(`floe-${o.role}`, (ctx) => composeRoles(ctx, rolesOf(o.role), FLOE_KIT), {
      argv,
      health: (cfg) => ({ host: cfg.health.host, port: cfg.health[`${o.role}Port`] }),
    });
  });

program
  .command('analyze')
  .description(
    'Offline: parse flow files, enforce the policy, run the detectors, print findings and a summary.\n' + 'Exit 0 even when attacks are found; 2 for unusable input or options.',
  )
  .argument('<file...>', 'flow files (conntrack -E/-L text, conntrack XML, kernel LOG lines, ulogd2 JSON); pipes too, and - for standard input')
  .addOption(new Option('--format <name>', 'input format').choices(FORMATS).default('auto'))
  .option('--policy <file>', 'policy YAML (default: the embedded policy)')
  .option('--inventory <file>', 'inventory YAML/JSON mapping addresses to namespace and workload')
  .option('--json', 'one finding per line (NDJSON) on stdout; the summary goes to stderr')
  .option('--max-line-bytes <n>', 'longest line read; longer lines are counted as rejected (line-too-long) and skipped', parseMaxLineBytes, DEFAULT_MAX_LINE_BYTES)
  .option('--model <dir>', "also run the ML detector ml.autoencoder with the model in DIR (written by `floe train`); default: the policy's detectors.model.dir")
  .action(async (files: string[], o) => {
    const r = await analyzeFiles(
      files,
      { format: o.format, policyFile: o.policy, inventoryFile: o.inventory, json: !!o.json, maxLineBytes: o.maxLineBytes, modelDir: o.model },
      out,
      err,
    );
    for (const line of summaryLines(r)) (o.json ? err : out)(line);
  });

/** `--fpr`: a decimal in (0, 0.5]. */
function parseFpr(v: string): number {
  const n = /^(0(\.[0-9]+)?|\.[0-9]+)$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!(n > 0 && n <= 0.5)) throw new InvalidArgumentError('a false-positive rate: a decimal number in (0, 0.5], such as 0.01');
  return n;
}
/** `--window`: `<n>s`, `<n>m` or `<n>ms`, 1 s .. 1 h. */
function parseWindow(v: string): number {
  const m = /^([0-9]{1,7})(ms|s|m)$/.exec(v.trim());
  const n = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000) : Number.NaN;
  if (!(n >= 1000 && n <= 3_600_000)) throw new InvalidArgumentError('a window of 1s to 60m, written 60s, 5m or 30000ms');
  return n;
}
/** `--since`: a duration back from now (`24h`, `7d`, `90m`) or an ISO 8601 time. */
function parseSince(v: string): number {
  const m = /^([0-9]{1,6})(m|h|d)$/.exec(v.trim());
  const t = m
    ? Date.now() - Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'h' ? 3_600_000 : 86_400_000)
    : /^\d{4}-\d{2}-\d{2}/.test(v.trim())
      ? Date.parse(v.trim())
      : Number.NaN;
  if (!Number.isFinite(t)) throw new InvalidArgumentError('a duration back from now (90m, 24h, 7d) or an ISO 8601 time (2026-12-01T00:00:00Z)');
  return t;
}
function parseEpochs(v: string): number {
  const n = /^[0-9]{1,6}$/.test(v.trim()) ? Number(v.trim()) : Number.NaN;
  if (!(n >= 1 && n <= 100_000)) throw new InvalidArgumentError('an integer 1..100000');
  return n;
}

program
  .command('train')
  .description(
    'Train the ML detector (ml.autoencoder): read flow files, cut them into per-source windows (window\n' +
      'features), leave out every source the rule and policy detectors raise a finding for over the same input,\n' +
      'fit an autoencoder (TensorFlow.js) to the rest and set its threshold to the (1 - fpr) quantile of its\n' +
      'training errors. Writes DIR/model.json + DIR/weights.bin (TensorFlow.js layers format) and\n' +
      'DIR/floe-model.json (features, scaling, threshold, version). Use it with `floe analyze --model DIR`\n' +
      'or the policy key detectors.model.dir. With --from-store the flows come from the store (after any\n' +
      '--input files) and every source its findings name is left out too. Exit 2 for unusable input or\n' +
      'options, or too few windows.',
  )
  .option('--input <file...>', 'flow files (the formats of `floe analyze`; pipes, - for standard input), read in order as one stream')
  .option('--from-store', "read the store's flows table (and leave out the sources its findings name)")
  .option('--since <when>', 'with --from-store: flows and findings from this time on: 90m, 24h, 7d back from now, or an ISO 8601 time', parseSince)
  .option('--store <path>', "with --from-store: the DuckDB file (default: the configuration's store, data/floe.duckdb)")
  .option('-c, --config <file>', 'with --from-store: configuration YAML naming the store (duckdb or clickhouse)')
  .addOption(new Option('--format <name>', 'input format').choices(FORMATS).default('auto'))
  .requiredOption('--out <dir>', 'model directory to write (created)')
  .option('--fpr <rate>', 'false-positive rate the threshold is calibrated for, on the training windows', parseFpr, 0.01)
  .option('--window <length>', 'window length: 60s (default), 5m, 30000ms', parseWindow, 60_000)
  .option('--epochs <n>', 'training epochs (default 150)', parseEpochs)
  .option('--policy <file>', 'policy YAML whose detectors decide which sources to leave out (default: the embedded policy)')
  .option('--inventory <file>', 'inventory YAML/JSON mapping addresses to namespace and workload')
  .option('--max-line-bytes <n>', 'longest line read; longer lines are counted as rejected and skipped', parseMaxLineBytes, DEFAULT_MAX_LINE_BYTES)
  .action(async (o) => {
    if (!o.input && !o.fromStore) throw new UsageError('train: give --input FILE... or --from-store');
    if (!o.fromStore && (o.since !== undefined || o.store)) throw new UsageError('train: --since and --store go with --from-store');
    // The model folder is made before training, so a wrong --out is known at once, not after it.
    prepareOutputDir(o.out, '--out');
    let store: ReturnType<typeof createStore> | undefined;
    let extra: Awaited<ReturnType<typeof storeInput>> | undefined;
    if (o.fromStore) {
      const cfg = loadConfig({ file: o.config, overrides: (o.store ? { store: { path: o.store } } : {}) as never });
      if (cfg.store.kind === 'duckdb') requireExistingDuckDbStore(cfg.store.path, 'train --from-store');
      store = createStore(storeConfigOf(cfg));
      await store.start();
    }
    try {
      if (store) extra = await storeInput(store, o.since, err);
      await trainFromInputs(
        {
          inputs: o.input ?? [],
          extra,
          format: o.format,
          out: o.out,
          fpr: o.fpr,
          windowMs: o.window,
          epochs: o.epochs,
          policyFile: o.policy,
          inventoryFile: o.inventory,
          maxLineBytes: o.maxLineBytes,
        },
        out,
        err,
      );
    } finally {
      await store?.stop();
    }
  });

program
  .command('eval')
  .description(
    'Evaluate the detectors on a labelled data set: precision, recall and F1 per detector and attack class,\n' +
      "per source address and 60 s window, for rules, model and both, and the model's ROC AUC. Exit 2 for bad input.",
  )
  .requiredOption('--input <file>', 'labelled flow file')
  .addOption(new Option('--format <name>', 'data set format of --input').choices([...LABELLED_FORMATS]).makeOptionMandatory())
  .option('--model <dir>', 'saved model directory (floe train --out DIR); all input rows are evaluated')
  .option('--train <file>', 'train the model on this labelled file (its benign windows) and evaluate on all of --input')
  .addOption(new Option('--train-format <name>', 'format of --train (default: --format)').choices([...LABELLED_FORMATS]))
  .option(
    '--train-split <f>',
    'without --model/--train: train on the first fraction of the rows in time order, evaluate the rest (0: no training, evaluate all)',
    parseFraction,
    0.5,
  )
  .option('--policy <file>', 'policy YAML whose detector thresholds are used (default: the embedded policy)')
  .option('--json', 'print the whole result as one JSON object')
  .option('--roc <file.svg>', "write the model's ROC curve as SVG")
  .option('--fpr <rate>', 'when training: false-positive rate the threshold is calibrated for, on the training windows', parseFpr, 0.01)
  .option('--epochs <n>', 'when training: epochs (default 150)', parseEpochs)
  .action(async (o) => {
    if (o.roc !== undefined) checkOutputFile(o.roc, '--roc');
    await evalCommand(
      { input: o.input, format: o.format, model: o.model, train: o.train, trainFormat: o.trainFormat, trainSplit: o.trainSplit, policyFile: o.policy, json: !!o.json, roc: o.roc },
      evalModels(err, { fpr: o.fpr, epochs: o.epochs }),
      out,
      err,
    );
  });

const collect = (v: string, prev: string[]) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];
program
  .command('report')
  .description(
    'Compliance report of a period: flow evidence from the store (counted in SQL) judged by the policy and mapped to ' +
      'PCI DSS v4.0 1.2.5, 1.3.1, 1.3.2, 1.4.2, NIST SP 800-53 SC-7, SC-7(5), AC-4 and CIS Kubernetes 5.3.1, 5.3.2, with the ' +
      "period's data completeness first (a period without flows is NO DATA, never compliant). Writes DIR/<id>.<format> and " +
      'DIR/index.json and prints the files; progress on stderr. Exit 2 for a bad range, format, scope or store.',
  )
  .requiredOption('--from <time>', 'period start: RFC 3339 time (2026-11-30T10:00:00Z), date (UTC), ms since epoch, now, or 90m/24h/7d back from now')
  .option('--to <time>', 'period end, exclusive (same forms as --from; default now)', 'now')
  .option('--format <list>', 'comma-separated formats: json, csv, html, pdf', 'json,pdf')
  .option('--out <dir>', "folder to write to (default: the configuration's report.dir, data/reports)")
  .option('--namespace <ns>', 'only flows from or to this namespace (repeat or comma-separate)', collect, [] as string[])
  .option('--zone <zone>', 'only flows from or to this policy zone (repeat or comma-separate)', collect, [] as string[])
  .option('--cluster <name>', 'cluster name shown in the scope (default: report.cluster)')
  .option('--title <text>', 'report title')
  .option('--policy <file>', "policy YAML that judges the flows (default: the configuration's, else the embedded policy)")
  .option('--store <path>', "DuckDB file (default: the configuration's store, data/floe.duckdb)")
  .option('-c, --config <file>', 'configuration YAML naming the store (duckdb or clickhouse), policy and report settings')
  .action(async (o) => {
    const now = Date.now();
    const from = parseReportTime('--from', o.from, now);
    const to = parseReportTime('--to', o.to, now);
    checkRange(from, to);
    const formats = parseFormats(o.format);
    const overrides: Record<string, unknown> = {};
    if (o.store) overrides.store = { path: o.store };
    if (o.policy) overrides.policyFile = o.policy;
    warnUnknownEnv();
    const cfg = loadConfig({ file: o.config, overrides: overrides as never });
    await reportCommand(
      cfg,
      {
        from,
        to,
        formats,
        out: o.out ?? cfg.report.dir,
        outName: o.out !== undefined ? '--out' : 'report.dir',
        namespaces: o.namespace,
        zones: o.zone,
        cluster: o.cluster,
        title: o.title,
      },
      out,
      err,
    );
  });

const policy = program.command('policy').description('Policy files');
policy
  .command('check')
  .description('Validate a policy file; every error names file, line, column and field. Exit 1 when invalid.')
  .argument('<file>', 'policy YAML')
  .action(async (file: string) => {
    const ok = await checkPolicyFile(file, out, err);
    if (!ok) process.exitCode = 1;
  });
policy
  .command('suggest')
  .description(
    'Print Kubernetes NetworkPolicies (YAML) that allow exactly the traffic of the stored flows in a period:\n' +
      'one per workload seen, selected by the labels its pods share, policyTypes Ingress and Egress, each rule\n' +
      'one peer (podSelector, plus namespaceSelector on kubernetes.io/metadata.name across namespaces; ipBlock /32\n' +
      'for addresses outside the cluster) with the exact ports seen after DNAT. Needs flows enriched by kube.enabled.',
  )
  .option('--from <when>', 'flows observed from this time on: 90m, 24h, 7d back from now, or an ISO 8601 time', parseSince)
  .option('--to <when>', 'flows observed before this time (same forms)', parseSince)
  .option('--namespace <ns>', 'only policies for workloads of this namespace')
  .option('--store <path>', "the DuckDB file (default: the configuration's store, data/floe.duckdb)")
  .option('-c, --config <file>', 'configuration YAML naming the store (duckdb or clickhouse)')
  .action(async (o) => {
    if (o.from !== undefined && o.to !== undefined && o.from >= o.to) throw new UsageError('policy suggest: --from must be before --to');
    if (o.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.namespace))
      throw new UsageError('policy suggest: --namespace must be a namespace name (DNS-1123 label)');
    const cfg = loadConfig({ file: o.config, overrides: (o.store ? { store: { path: o.store } } : {}) as never });
    if (cfg.store.kind === 'duckdb') requireExistingDuckDbStore(cfg.store.path, 'policy suggest');
    const store = createStore(storeConfigOf(cfg));
    await store.start();
    try {
      await suggestFromStore(store, { from: o.from, to: o.to, namespace: o.namespace }, (text) => process.stdout.write(text), err);
    } finally {
      await store.stop();
    }
  });

/**
 * Runs `fn` on the configured store (opened and closed here). With `existing` (the command's
 * name), a DuckDB store must already be there: a command that only reads or changes what is
 * stored does not create an empty one (exit 2, FLOE_STORE_BAD_PATH, as `floe report`).
 */
async function withStore(config: string | undefined, fn: (store: ReturnType<typeof createStore>) => Promise<void>, existing?: string): Promise<void> {
  const cfg = loadConfig({ file: config });
  if (existing !== undefined && cfg.store.kind === 'duckdb')
    requireExistingDuckDbStore(cfg.store.path, existing, 'pass -c CONFIG naming an existing store (store.path, FLOE_STORE_PATH)');
  const store = createStore(storeConfigOf(cfg));
  await store.start();
  try {
    await fn(store);
  } finally {
    await store.stop();
  }
}

const token = program
  .command('token')
  .description(
    'API tokens in the configured store (only a SHA-256 hash is kept). With the embedded DuckDB store, run while floe run is\n' +
      'stopped (the file is locked to one process), or use the API: POST/GET/DELETE /v1/tokens (admin).',
  );
token
  .command('create')
  .description('Create a token and print its secret once (first line), then its id, role and expiry')
  .addOption(new Option('--role <role>', 'viewer (read), analyst (+ triage, blocks), admin (+ tokens, audit)').choices(['viewer', 'analyst', 'admin']).makeOptionMandatory())
  .option('--name <name>', 'a label (default: the id)')
  .option('--expires <ttl>', 'lifetime: 90m, 12h, 30d, 4w (default: never)')
  .option('-c, --config <file>', 'configuration YAML naming the store')
  .action(async (o: { role: string; name?: string; expires?: string; config?: string }) => {
    await withStore(o.config, async (store) => {
      await tokenCreate(store, o, out);
    });
  });
token
  .command('list')
  .description('List tokens: id, role, state (active, expired, revoked), created, expires, name; never a secret')
  .option('-c, --config <file>', 'configuration YAML naming the store')
  .action(async (o: { config?: string }) => withStore(o.config, (store) => tokenList(store, out), 'token list'));
token
  .command('revoke')
  .description('Revoke a token by id; it is refused from then on')
  .argument('<id>', 'token id (floe token list)')
  .option('-c, --config <file>', 'configuration YAML naming the store')
  .action(async (id: string, o: { config?: string }) => withStore(o.config, (store) => tokenRevoke(store, id, out), 'token revoke'));

program
  .command('config')
  .description('Show configuration: the merged result (--print) or every key with its default (--describe)')
  .option('-c, --config <file>', 'configuration YAML')
  .option('--print', 'print the merged configuration (file + FLOE_* environment) as JSON')
  .option('--describe', 'list every key, its default and meaning')
  .action((o) => {
    if (o.describe || !o.print) {
      const envOf = new Map(configEnvNames().map((n) => [n.slice(5).replace(/_/g, '').toLowerCase(), n]));
      out(`${'key'.padEnd(32)} ${'default'.padEnd(22)} ${'environment'.padEnd(36)} meaning`);
      for (const [k, d, text] of describeConfig()) out(`${k.padEnd(32)} ${d.padEnd(22)} ${(envOf.get(k.replace(/\./g, '').toLowerCase()) ?? '').padEnd(36)} ${text}`);
      return;
    }
    warnUnknownEnv();
    const cfg = loadConfig({ file: o.config });
    // never print a secret (the API token, a webhook's HMAC key: @floe/config's SECRET_KEYS)
    out(JSON.stringify(redactSecrets(cfg), null, 2));
  });

program.parseAsync(process.argv).catch((e: Error & { code?: string; exitCode?: number }) => {
  if (e.code?.startsWith('commander.')) {
    // commander already printed the message (or the help / version)
    process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2);
  }
  // A component's failure wraps the error that caused it: judge by the root cause's code.
  let code = e.code;
  for (let c: unknown = e.cause; !code && c instanceof Error; c = c.cause) code = (c as { code?: string }).code;
  // Bad input or options: the message alone, exit 2 (no stack trace for a user's mistake).
  // An unusable --store / store.path (FLOE_STORE_BAD_PATH) is such a mistake too.
  if (
    e instanceof ConfigError ||
    e instanceof UsageError ||
    /^FLOE_(POLICY|CONFIG|FLOW|CLI|REPORT)_|^FLOE_MODEL_(NOT_FOUND|BAD_FORMAT|FEATURE_MISMATCH|VERSION_MISMATCH)$|^FLOE_STORE_BAD_(PATH|CONFIG)$|^FLOE_ALERT_BAD_CONFIG$/.test(
      code ?? '',
    )
  ) {
    err(`floe: ${e.message}`);
    process.exit(2);
  }
  if (code === 'EADDRINUSE') {
    err(`floe: ${e.message}: another process listens there; pass --api-port (0 = any free port) or stop it`);
    process.exit(2);
  }
  // A file system call that failed after the checks (a disk full, a folder removed meanwhile):
  // what, where and why in one line, exit 1 (not the user's input; no stack trace either).
  const sys = e as { syscall?: unknown; path?: unknown };
  if (typeof sys.syscall === 'string' && typeof sys.path === 'string' && code !== undefined && /^E[A-Z]+$/.test(code)) {
    err(`floe: ${sys.syscall} ${escapeText(sys.path)} failed (${code})`);
    process.exit(1);
  }
  // Any other failure: a known floe error prints its code; an unexpected one its stack.
  err(code?.startsWith('FLOE_') ? `floe: ${e.message} [${code}]` : `floe: ${e.stack ?? e.message}`);
  process.exit(1);
});
