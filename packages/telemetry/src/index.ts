export * from './log.js';
export * from './logger.js';
export * from './metrics.js';
