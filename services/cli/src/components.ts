import { conntrackAvailable, createCollector } from '@floe/collector';
import { createPipeline, createProcessor, type Pipeline } from '@floe/pipeline';
import { createEnforcer } from '@floe/enforcer';
import { API_KIT, type buildApp } from '@floe/api';
import type { RoleKit } from '@floe/runtime';
import { scorersFromPolicy } from '@floe/model';
import { kubeEnricherFor } from '@floe/kube';

/**
 * Every role's implementation, for `floe run` (all roles in one process) and `floe serve --role`
 * (one role): the same composeRoles of @floe/runtime the role mains use with their own role only.
 */
export const FLOE_KIT: RoleKit<Pipeline, ReturnType<typeof buildApp>> = Object.freeze({
  collector: { createCollector, conntrackAvailable },
  processor: { createPipeline, createProcessor, loadScorers: scorersFromPolicy, loadEnricher: kubeEnricherFor },
  enforcer: { createEnforcer },
  api: API_KIT,
});
