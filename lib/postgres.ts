/**
 * `sojourn/postgres`: sessions and the fleet in PostgreSQL over your own `pg` Pool.
 * Only pg's types are imported, so loading sojourn never loads a driver; `pg` is an optional peer.
 */
export { postgresStore, type PostgresStore, type PostgresStoreOptions } from './stores/postgres.js';
export { schemaSql, SCHEMA_VERSION, DEFAULT_TABLE, type PostgresTableOptions } from './stores/postgres-schema.js';
export { postgresFleet, type PostgresFleetOptions } from './fleets/postgres.js';
export { postgresLogSink, type PostgresLogSink, type PostgresLogSinkOptions } from './logs/postgres.js';
