export * from './store.js';
export * from './errors.js';
export * from './migrations.js';
export * from './duckdb.js';
export * from './clickhouse.js';
export * from './clickhouse-migrations.js';
export * from './factory.js';
export * from './path.js';
