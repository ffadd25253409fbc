export * from './bus.js';
export * from './errors.js';
export * from './memory.js';
export * from './factory.js';
export * from './kafka.js';
export * from './metrics.js';
export * from './deadletter.js';
