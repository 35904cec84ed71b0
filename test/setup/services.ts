/**
 * vitest globalSetup: the throwaway servers the tests share, started in parallel — a
 * redis-server, a Redis Cluster (3 masters, 1 replica each) and a PostgreSQL — provided as
 * `redisUrl`, `redisClusterNodes` and `postgresUrl`, stopped on teardown (and by the watchdog
 * of test/services/ if this process dies first). And Chromium for the browser tests (installed
 * when missing; each test file launches its own), provided as `chromiumPath`.
 *
 * Environment overrides use existing servers instead (a CI service container); the tests then
 * write under unique prefixes and tables and never flush them: SOJOURN_TEST_REDIS_URL,
 * SOJOURN_TEST_POSTGRES_URL, SOJOURN_TEST_REDIS_CLUSTER_NODES (`host:port,host:port,…`);
 * SOJOURN_TEST_CHROMIUM names a Chromium or Chrome binary to use instead of Debian's.
 */
import type { TestProject } from 'vitest/node';
import { findChromium, startPostgres, startRedisCluster, startRedisServer } from '../services/index.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the throwaway server. */
    redisUrl: string;
    /** The throwaway Redis Cluster's nodes (all six), as a cluster client's root nodes. */
    redisClusterNodes: { host: string; port: number }[];
    /** `postgresql://…` of the throwaway server, database `postgres`, trust auth. */
    postgresUrl: string;
    /** A Chromium binary for playwright-core's `executablePath` (Debian's `/usr/bin/chromium`). */
    chromiumPath: string;
  }
}

interface Service {
  provide(project: TestProject): void;
  stop(): Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const results = await Promise.allSettled([redis(), redisCluster(), postgres(), chromium()]);
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const teardown = async () => void (await Promise.all(started.map((service) => service.stop())));
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) {
    await teardown();
    throw failure.reason;
  }
  for (const service of started) service.provide(project);
  return teardown;
}

// ---------------------------------------------------------------------------------------

const nothingToStop = async () => {};

async function redis(): Promise<Service> {
  const given = process.env.SOJOURN_TEST_REDIS_URL;
  if (given) return { provide: (project) => project.provide('redisUrl', given), stop: nothingToStop };
  const server = await startRedisServer();
  return { provide: (project) => project.provide('redisUrl', server.url), stop: () => server.stop() };
}

async function redisCluster(): Promise<Service> {
  const given = process.env.SOJOURN_TEST_REDIS_CLUSTER_NODES;
  if (given) return { provide: (project) => project.provide('redisClusterNodes', parseNodes(given)), stop: nothingToStop };
  const cluster = await startRedisCluster();
  const nodes = cluster.nodes.map(({ host, port }) => ({ host, port }));
  return { provide: (project) => project.provide('redisClusterNodes', nodes), stop: () => cluster.stop() };
}

async function postgres(): Promise<Service> {
  const given = process.env.SOJOURN_TEST_POSTGRES_URL;
  if (given) return { provide: (project) => project.provide('postgresUrl', given), stop: nothingToStop };
  const server = await startPostgres();
  return { provide: (project) => project.provide('postgresUrl', server.url), stop: () => server.stop() };
}

async function chromium(): Promise<Service> {
  const path = await findChromium();
  return { provide: (project) => project.provide('chromiumPath', path), stop: nothingToStop };
}

function parseNodes(list: string): { host: string; port: number }[] {
  return list.split(',').map((address) => {
    const match = /^(.+):(\d+)$/.exec(address.trim());
    if (!match) throw new TypeError(`SOJOURN_TEST_REDIS_CLUSTER_NODES: expected host:port,host:port,…, got ${JSON.stringify(address)}`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}
