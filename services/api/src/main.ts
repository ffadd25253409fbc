/**
 * The api role as its own process: `node services/api/dist/main.js [-c config.yaml]`.
 * Serves /v1/findings and /v1/decisions from the store on api.host:api.port; manual blocks and
 * unblocks go through the responder and @floe/respond's decision writer (store, then the
 * compacted floe.decisions.v1 topic the enforcers read). Health: GET /healthz and /metrics on
 * health.host:health.apiPort (the API answers /healthz too). Exit 0 after SIGINT/SIGTERM,
 * 2 for a bad configuration or policy, 1 on a failure.
 */
import { composeRoles, rolesOf, runService } from '@floe/runtime';
import { API_KIT } from '@floe/api';

await runService('floe-api', (ctx) => composeRoles(ctx, rolesOf('api'), { api: API_KIT }), {
  health: (cfg) => ({ host: cfg.health.host, port: cfg.health.apiPort }),
});
