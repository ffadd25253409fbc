import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, unknownEnvNames, type FloeConfig } from '@floe/config';
import { createLogger, createRegistry, type Logger } from '@floe/telemetry';
import { createLifecycle, type Component, type Lifecycle } from './lifecycle.js';
import { createHealthServer, type HealthListen } from './health.js';
import type { ServiceContext } from './roles.js';

/** Exit codes of a service process. */
export const EXIT = Object.freeze({
  /** Stopped by SIGINT/SIGTERM or by the service itself (replay done), everything closed. */
  ok: 0,
  /** A component failed to start or failed while running, or shutdown timed out. */
  failure: 1,
  /** Unusable configuration or command line (the message names file:line and key, or the variable). */
  usage: 2,
});

/** How runService is called. */
export interface RunServiceOptions {
  /** Command-line arguments after the script (default process.argv.slice(2)): `-c FILE`, `--check`, `--help`. */
  argv?: string[];
  /** Environment read for FLOE_* overrides (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Where the health endpoint listens, from the validated config; undefined = no endpoint. */
  health?: (cfg: FloeConfig) => HealthListen | undefined;
  /** Exits the process (default process.exit); a test harness may record instead. */
  exit?: (code: number) => void;
  /** Diagnostics for a person when there is no logger yet (default: process.stderr). */
  stderr?: (line: string) => void;
}

/** Builds the components of a service from its context; they are started in the order returned. */
export type BuildComponents = (ctx: ServiceContext) => Promise<Component[]>;

/**
 * Runs one service process (STYLE.md patterns 3 and 12): reads `-c FILE` and the FLOE_*
 * environment, validates the configuration (a ConfigError or a policy error prints
 * `<name>: <message>` and exits 2; `--check` exits 0 after validating), builds the components,
 * starts the health endpoint (GET /healthz, /metrics) then the components in order, and waits.
 * SIGINT or SIGTERM stops everything in reverse order (drain, commit, close) and exits 0; a second
 * signal exits 1 at once; a shutdown longer than `health.shutdownTimeoutMs` exits 1. A component
 * that fails to start or later (ServiceContext.fail) stops everything and exits 1.
 * Resolves with the exit code after calling `exit` (which does not return by default).
 */
export async function runService(name: string, build: BuildComponents, opts: RunServiceOptions = {}): Promise<number> {
  const stderr =
    opts.stderr ??
    ((line: string) => {
      process.stderr.write(line + '\n');
    });
  const exit = (code: number): number => {
    (opts.exit ?? process.exit)(code);
    return code;
  };
  const env = opts.env ?? process.env;

  let args: { config?: string; check?: boolean; help?: boolean };
  try {
    args = parseArgs({
      args: opts.argv ?? process.argv.slice(2),
      options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    stderr(`${name}: ${(e as Error).message}\nusage: ${name} [-c config.yaml] [--check]`);
    return exit(EXIT.usage);
  }
  if (args.help) {
    stderr(
      `usage: ${name} [-c config.yaml] [--check]\n  FLOE_* environment variables override the file (floe config --describe lists them).\n  --check validates the configuration and exits.`,
    );
    return exit(EXIT.ok);
  }

  let cfg: FloeConfig;
  try {
    cfg = loadConfig({ file: args.config, env });
  } catch (e) {
    if (e instanceof ConfigError) {
      stderr(`${name}: ${e.message}`);
      return exit(EXIT.usage);
    }
    throw e;
  }
  const log = createLogger({ level: cfg.log.level }).child({ service: name });
  const unknown = unknownEnvNames(env);
  if (unknown.length) log.warn({ variables: unknown }, 'FLOE_* variables that are no configuration key are ignored');

  const registry = createRegistry();
  const lifecycle = createLifecycle({ logger: log });
  const ctx: ServiceContext = {
    cfg,
    logger: log,
    registry,
    fail: (component, err) => lifecycle.fail(component, err),
    stop: (reason) => {
      void lifecycle.stop(reason);
    },
  };

  let components: Component[];
  try {
    components = await build(ctx);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof ConfigError || /^FLOE_(POLICY|CONFIG|FLOW)_|^FLOE_STORE_BAD_(PATH|CONFIG)$|^FLOE_ALERT_BAD_CONFIG$/.test(err.code ?? '')) {
      stderr(`${name}: ${err.message}`);
      return exit(EXIT.usage);
    }
    log.error({ err: err.message }, 'cannot build the service');
    stderr(`${name}: ${err.message}`);
    return exit(EXIT.failure);
  }
  if (args.check) {
    stderr(`${name}: configuration ok${args.config ? ` (${args.config})` : ''}`);
    return exit(EXIT.ok);
  }

  const listen = opts.health?.(cfg);
  if (listen) {
    const server = createHealthServer(listen, { service: name, registry, health: () => lifecycle.health() });
    const start = server.start.bind(server);
    lifecycle.add({
      ...server,
      start: async () => {
        await start();
        log.info({ url: server.url() }, 'health endpoint listening');
      },
    });
  }
  lifecycle.add(...components);
  return exit(await runLifecycle(lifecycle, { logger: log, shutdownTimeoutMs: cfg.health.shutdownTimeoutMs, stderr }));
}

/**
 * Starts a lifecycle and waits until it ends; SIGINT/SIGTERM stop it. Returns the exit code:
 * 0 after a requested stop, 1 after a failure or when stopping outlasts `shutdownTimeoutMs`
 * or a second signal arrives, 2 when the start failed because a port is in use (EADDRINUSE, a
 * configuration mistake, as `floe run` treats it). Signal handlers are removed before it returns.
 */
export async function runLifecycle(lifecycle: Lifecycle, opts: { logger: Logger; shutdownTimeoutMs: number; stderr?: (line: string) => void }): Promise<number> {
  const log = opts.logger;
  let timer: NodeJS.Timeout | undefined;
  let forced: ((code: number) => void) | undefined;
  const forcedExit = new Promise<number>((r) => {
    forced = r;
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, 'second signal during shutdown: exiting now');
      forced!(EXIT.failure);
      return;
    }
    log.info({ signal: sig }, 'signal received: shutting down');
    void lifecycle.stop(`signal ${sig}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The shutdown timer starts when stopping starts, whoever asked for it (signal, failure, replay done).
  void lifecycle.stopping.then(() => {
    timer = setTimeout(() => {
      log.error({ timeoutMs: opts.shutdownTimeoutMs }, 'shutdown timed out');
      forced!(EXIT.failure);
    }, opts.shutdownTimeoutMs);
    timer.unref();
  });
  let busyPort = false;
  try {
    try {
      await lifecycle.start();
      if (lifecycle.state() === 'running') log.info('started');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'start failed');
      opts.stderr?.(`${(e as Error).message}`);
      busyPort = hasCode(e, 'EADDRINUSE');
    }
    let code = await Promise.race([lifecycle.done.then((o) => (o.failure ? EXIT.failure : EXIT.ok)), forcedExit]);
    // A port another process holds is a configuration mistake (as in `floe run`): exit 2, not 1.
    if (busyPort && code === EXIT.failure) code = EXIT.usage;
    const outcome = lifecycle.state() === 'stopped' ? await lifecycle.done : undefined;
    if (outcome) log.info({ reason: outcome.reason, failure: outcome.failure?.message, code }, 'stopped');
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Whether an error or any error in its `cause` chain has `code`. */
function hasCode(e: unknown, code: string): boolean {
  for (let c: unknown = e; c instanceof Error; c = c.cause) if ((c as { code?: unknown }).code === code) return true;
  return false;
}
