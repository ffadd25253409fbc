export * from './config.js';
export { configSchema } from './schema.js';
