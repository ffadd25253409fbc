/**
 * The collector role as its own process: `node services/collector/dist/main.js [-c config.yaml]`.
 * Reads live `conntrack -E` events (or replays `collector.replay.file`) and publishes flows on
 * floe.flows.v1. Health: GET /healthz and /metrics on health.host:health.collectorPort.
 * Exit 0 after SIGINT/SIGTERM (sources stopped, pending batch published, bus closed), 2 for a
 * bad configuration, 1 when a source or the bus fails.
 */
import { composeRoles, rolesOf, runService } from '@floe/runtime';
import { conntrackAvailable, createCollector } from '@floe/collector';

await runService('floe-collector', (ctx) => composeRoles(ctx, rolesOf('collector'), { collector: { createCollector, conntrackAvailable } }), {
  health: (cfg) => ({ host: cfg.health.host, port: cfg.health.collectorPort }),
});
