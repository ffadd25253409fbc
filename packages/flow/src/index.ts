export * from './record.js';
export * from './finding.js';
export * from './decision.js';
