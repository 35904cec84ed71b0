/**
 * `sojourn/postgres`: sessions in PostgreSQL over your own `pg` Pool. Only pg's types are
 * imported, so loading sojourn never loads a driver; `pg` is an optional peer dependency.
 */
export { postgresStore, type PostgresStore, type PostgresStoreOptions } from './stores/postgres.js';
export { schemaSql, SCHEMA_VERSION, DEFAULT_TABLE, type PostgresTableOptions } from './postgres/schema.js';
export { postgresQueue, type PostgresQueue, type PostgresQueueOptions } from './postgres/queue.js';
export { queueSchemaSql, QUEUE_SCHEMA_VERSION, DEFAULT_QUEUE_TABLE, type PostgresQueueTableOptions } from './postgres/queue-schema.js';
