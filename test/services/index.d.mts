// Types of index.mjs (hand-written: the module is plain JavaScript so that `node bench/*.mjs`
// can import it without a TypeScript loader).

/** A free TCP port on 127.0.0.1 (free when asked: a server started later may lose it to another). */
export function freePort(): Promise<number>;

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** Its own directory (log), removed by `stop()`. */
  readonly dir: string;
  /** Stops it (SIGTERM: a shutdown; SIGKILL: a crash), waits for it to exit, removes its directory. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * Starts a redis-server (no persistence, 127.0.0.1, its own directory) on `port`, a free one by
 * default, and resolves once it answers PING. Installs Debian's `redis-server` first when it is
 * missing and we are root.
 */
export function startRedisServer(port?: number): Promise<RedisServer>;

export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
}

/** One node as the cluster sees it now (`CLUSTER NODES` asked of a running node). */
export interface RedisClusterNodeState {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  /** Our pid for it (undefined only for a node we did not start). */
  readonly pid: number | undefined;
  /** False once `kill()` took it down. */
  readonly running: boolean;
  readonly role: 'master' | 'replica';
  /** A replica's master. */
  readonly masterId: string | undefined;
  /** Flagged `fail` by the cluster. */
  readonly failed: boolean;
  /** Inclusive slot ranges a master serves. */
  readonly slots: ReadonlyArray<readonly [number, number]>;
}

export interface RedisCluster {
  /** The six nodes as started; roles change on failover, so ask `topology()` for them. */
  readonly nodes: readonly RedisClusterNode[];
  /** Its own directory (a subdirectory per node), removed by `stop()`. */
  readonly dir: string;
  topology(): Promise<RedisClusterNodeState[]>;
  /** The master serving `key`'s slot (or `slot`); undefined while none does (mid-failover). */
  masterFor(keyOrSlot: string | number): Promise<RedisClusterNodeState | undefined>;
  /** SIGKILLs the node on `port` (a crash) and waits for it to exit. */
  kill(port: number): Promise<void>;
  /** Until every running node has cluster_state:ok, all 16384 slots served and its replication link up. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Kills every node and removes the cluster's directory. */
  stop(): Promise<void>;
}

/**
 * Starts a Redis Cluster of 3 masters with 1 replica each on 127.0.0.1 (node timeout 2 s, so a
 * killed master's replica takes over within seconds) and resolves once it is healthy.
 */
export function startRedisCluster(): Promise<RedisCluster>;

export interface PostgresOptions {
  /**
   * Keep fsync, synchronous commit and full-page writes on, for tests that crash the server and
   * count what survived.
   * @default false
   */
  durable?: boolean;
  /** @default 200 */
  maxConnections?: number;
}

export interface PostgresServer {
  /** `postgresql://postgres@127.0.0.1:<port>/postgres`, trust authentication. */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The postmaster's pid (a new one after `start()`). */
  readonly pid: number;
  /** An immediate shutdown (`pg_ctl stop -m immediate`: no checkpoint); `start()` brings it back. */
  crash(): Promise<void>;
  /** Starts it again on the same data directory and port, when it is down. */
  start(): Promise<void>;
  /** Shuts it down and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL server from the newest /usr/lib/postgresql/<version>/bin on a free port
 * (fsync off unless `durable`), running as the `postgres` user when we are root; installs
 * Debian's `postgresql` first when no server is installed and we are root.
 */
export function startPostgres(options?: PostgresOptions): Promise<PostgresServer>;

/** The flags every headless Chromium of the tests and scripts runs with (see TOOLCHAIN.md). */
export const CHROMIUM_ARGS: readonly string[];

/**
 * The path of a Chromium binary: SOJOURN_TEST_CHROMIUM when set, else Debian's
 * `/usr/bin/chromium`, installed with apt first when it is missing and we are root.
 */
export function findChromium(): Promise<string>;
