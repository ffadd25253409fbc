/** @floe/runtime — lifecycle, health endpoint and role composition shared by `floe run` and the role mains (README.md). */
export * from './lifecycle.js';
export * from './health.js';
export * from './wiring.js';
export * from './roles.js';
export * from './service.js';
export * from './triage-sync.js';
