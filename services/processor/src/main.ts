/**
 * The processor role as its own process: `node services/processor/dist/main.js [-c config.yaml]`.
 * Consumes floe.flows.v1 (group processor.group), runs policy and detectors (and the ML detector
 * when the policy's detectors.model.dir names a model), stores flows,
 * findings and decisions and publishes findings and decisions. Health: GET /healthz and
 * /metrics on health.host:health.processorPort. Exit 0 after SIGINT/SIGTERM (in-flight batches
 * finished and committed, store closed), 2 for a bad configuration or policy, 1 on a failure.
 */
import { composeRoles, rolesOf, runService } from '@floe/runtime';
import { createPipeline, createProcessor } from '@floe/pipeline';
import { scorersFromPolicy } from '@floe/model';
import { kubeEnricherFor } from '@floe/kube';

await runService(
  'floe-processor',
  (ctx) => composeRoles(ctx, rolesOf('processor'), { processor: { createPipeline, createProcessor, loadScorers: scorersFromPolicy, loadEnricher: kubeEnricherFor } }),
  {
    health: (cfg) => ({ host: cfg.health.host, port: cfg.health.processorPort }),
  },
);
