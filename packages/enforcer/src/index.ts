/** @floe/enforcer — applies floe.decisions.v1 to nftables on this node (see README.md). */
export { createEnforcer, isEnforceable, countCovered, type Enforcer, type EnforcerDeps, type EnforcerHealth } from './enforcer.js';
export { defaultEnforcerOptions, enforcerGroup, type EnforcerOptions } from './config.js';
export { createEnforcerMetrics, ENFORCER_METRICS, type EnforcerMetrics } from './metrics.js';
