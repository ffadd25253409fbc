/**
 * The api role's implementation as @floe/runtime's RoleKit takes it (`api:`), so the role main
 * and `floe run` hand over the same functions: build and listen, the token and exposure check,
 * and the manual block handlers.
 */
import { buildApp, startApi } from './app.js';
import { createDecisionHandlers } from './decisions.js';
import { resolveApiSecurity } from './security-config.js';
import { resolveApiToken } from './token.js';

/** `{ buildApp, startApi, resolveApiToken, resolveApiSecurity, createDecisionHandlers }` for RoleKit.api. */
export const API_KIT = Object.freeze({ buildApp, startApi, resolveApiToken, resolveApiSecurity, createDecisionHandlers });
