/**
 * The enforcer role as its own process: `node services/enforcer/dist/main.js [-c config.yaml]`.
 * Rebuilds this node's nftables set from floe.decisions.v1 (read from the beginning; the store
 * too when it is ClickHouse) and applies new decisions. Needs root or CAP_NET_ADMIN unless
 * enforcer.dryRun. Health: GET /healthz and /metrics on health.host:health.enforcerPort.
 * Exit 0 after SIGINT/SIGTERM (the table stays: blocks end by their timeouts), 2 for a bad
 * configuration, 1 on a failure.
 */
import { composeRoles, rolesOf, runService } from '@floe/runtime';
import { createEnforcer } from '@floe/enforcer';

await runService('floe-enforcer', (ctx) => composeRoles(ctx, rolesOf('enforcer'), { enforcer: { createEnforcer } }), {
  health: (cfg) => ({ host: cfg.health.host, port: cfg.health.enforcerPort }),
});
