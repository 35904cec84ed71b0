/**
 * `sojourn/postgres`: sessions, the fleet and future calls in PostgreSQL over your own `pg` Pool.
 * Only pg's types are imported, so loading sojourn never loads a driver; `pg` is an optional peer.
 */
export { postgresStore, type PostgresStore, type PostgresStoreOptions } from './stores/postgres.js';
export { schemaSql, SCHEMA_VERSION, DEFAULT_TABLE, type PostgresTableOptions } from './stores/postgres-schema.js';
export { postgresFleet, type PostgresFleetOptions } from './fleets/postgres.js';
export { postgresLogSink, type PostgresLogSink, type PostgresLogSinkOptions } from './logs/postgres.js';
export { postgresQueue, type PostgresQueue, type PostgresQueueOptions } from './queues/postgres.js';
export { queueSchemaSql, QUEUE_SCHEMA_VERSION, DEFAULT_QUEUE_TABLE, type PostgresQueueTableOptions } from './queues/postgres-schema.js';
