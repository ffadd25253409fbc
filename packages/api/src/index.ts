export * from './app.js';
export * from './auth.js';
export * from './decisions.js';
export * from './errors.js';
export * from './kit.js';
export * from './token.js';
export * from './values.js';
export * from './reports.js';
