/**
 * An extra throwaway PostgreSQL that a test may crash (an immediate shutdown, as
 * `pg_ctl stop -m immediate`: no shutdown checkpoint, like a power cut for the server process)
 * and start again on the same data directory and port. Durable settings (fsync and
 * synchronous_commit on), unlike the shared test server, so "nothing acknowledged is lost" is
 * measured for real.
 */
import { startPostgres, type PostgresServer } from '../services/index.mjs';

export interface PgCluster extends PostgresServer {
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

export async function pgCluster(): Promise<PgCluster> {
  const server = await startPostgres({ durable: true, maxConnections: 50 });
  return Object.assign(server, { remove: () => server.stop() });
}
