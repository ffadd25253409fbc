import { fileURLToPath } from 'node:url';
import type { FloeConfig } from '@floe/config';
import type { FormatName } from '@floe/flow';
import { createRegistry, type Logger } from '@floe/telemetry';
import { composeRoles, createLifecycle, rolesOf, ROLES, type ServiceContext } from '@floe/runtime';
import { FLOE_KIT } from './components.js';
import { decisionLine, findingLine } from './format.js';

/** The bundled real capture `floe run` replays when it cannot read live conntrack events. */
export const BUNDLED_SAMPLE = fileURLToPath(new URL('../samples/conntrack-nmap-top100-scan.log', import.meta.url));

/** Flags of `floe run` beyond the configuration file. */
export interface RunFlags {
  replay?: string;
  format: FormatName | 'auto';
  speed: number | 'max';
  /** Apply blocks in nftables even when replaying a capture (default: dry-run on replays). */
  enforce: boolean;
  /** Stop once the replay is processed (tests, batch use). */
  exitAfterReplay: boolean;
}

/**
 * `floe run`: every role in one process (capability flags all on) through @floe/runtime's
 * composeRoles, the composition the role mains use with one role each. Starts in dependency
 * order (store, bus, responder, enforcer, processor, api, collector) and stops in reverse; a
 * failing component stops everything and the promise rejects with its error. Resolves when
 * stopped by SIGINT/SIGTERM (or when the replay is done with exitAfterReplay).
 * @throws Error when a component fails to start or later; the policy's FLOE_POLICY_… errors.
 */
export async function runFloe(cfg: FloeConfig, flags: RunFlags, log: Logger, out: (line: string) => void): Promise<void> {
  const lifecycle = createLifecycle({ logger: log });
  const ctx: ServiceContext = {
    cfg,
    logger: log,
    registry: createRegistry(),
    fail: (component, err) => lifecycle.fail(component, err),
    stop: (reason) => {
      void lifecycle.stop(reason);
    },
  };
  const onSignal = (sig: string) => {
    void lifecycle.stop(`signal ${sig}`);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    lifecycle.add(
      ...(await composeRoles(ctx, rolesOf(...ROLES), FLOE_KIT, {
        replay: flags.replay ? { file: flags.replay, format: flags.format, speed: flags.speed } : undefined,
        fallbackReplay: { file: BUNDLED_SAMPLE, speed: flags.speed },
        enforceReplays: flags.enforce,
        exitAfterReplay: flags.exitAfterReplay,
        out,
        onFinding: (f) => out(findingLine(f)),
        onDecision: (d) => out(decisionLine(d)),
      })),
    );
    await lifecycle.start();
    const outcome = await lifecycle.done;
    if (outcome.failure) throw outcome.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
