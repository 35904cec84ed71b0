/**
 * Two (or more) instances of one application over a shared backend, each with its own manager,
 * own clients and own HTTP server on loopback: the set-ups the README recommends.
 * - `redis`: `redisStore` + `[lruCache(), redisCache()]` + `redisFleet` on one Redis.
 * - `postgres`: `postgresStore` + `[lruCache(), redisCache()]` + `redisFleet` (PostgreSQL durable, Redis shared).
 */
import { createServer, type Server } from 'node:http';
import type pg from 'pg';
import { createSessionManager, lruCache, type SessionManager, type SessionOptions, type SessionStore } from '../../lib/index.js';
import { postgresStore } from '../../lib/postgres.js';
import { redisCache, redisFleet, redisStore } from '../../lib/redis.js';
import { connectRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { newPool, uniqueTable } from '../helpers/postgres.js';
import { appOf } from '../frameworks/frameworks.js';
import { client, listen, type Client } from './client.js';
import { TEST_SECRET } from '../helpers/records.js';
import { tolerateWarnings } from '../helpers/warnings.js';

export type Backend = 'redis' | 'postgres';

export interface Node {
  readonly manager: SessionManager;
  readonly http: Client;
  readonly server: Server;
  readonly redis: TestRedisClient;
  readonly pool: pg.Pool | undefined;
}

export interface Fleet {
  readonly backend: Backend;
  readonly nodes: Node[];
  /** A store object of its own over the same data, for checks from outside the instances. */
  readonly inspect: SessionStore;
  readonly prefix: string;
  readonly table: string;
  close(): Promise<void>;
}

export async function fleet(backend: Backend, { size = 2, redisUrl, postgresUrl, options = {} }: { size?: number; redisUrl: string; postgresUrl?: string; options?: SessionOptions }): Promise<Fleet> {
  // Under the suite's load a 2-core machine can answer a Redis cache call later than cacheTimeout:
  // a miss, said with SOJOURN_CACHE_DOWN. Any other warning still fails the test.
  tolerateWarnings('SOJOURN_CACHE_DOWN', 'SOJOURN_CACHE_RECOVERED');
  const prefix = uniquePrefix(`rel-${backend}`);
  const table = uniqueTable('rel');
  const store = async (redis: TestRedisClient, pool: pg.Pool | undefined) => {
    if (backend === 'redis') return redisStore({ client: redis, prefix });
    const s = postgresStore({ pool: pool!, table });
    await s.migrate();
    return s;
  };
  const nodes: Node[] = [];
  for (let i = 0; i < size; i++) {
    const redis = await connectRedis(redisUrl);
    const pool = backend === 'postgres' ? newPool({ connectionString: postgresUrl, max: 10 }) : undefined;
    const manager = createSessionManager({
      secret: TEST_SECRET,
      store: await store(redis, pool),
      cache: [lruCache(), redisCache({ client: redis, prefix: `${prefix}cache:` })],
      fleet: redisFleet({ client: redis, prefix }),
      tokenMethod: 'bearer',
      cleanupInterval: false,
      ...options,
    });
    await manager.start();
    const server = createServer(appOf(manager));
    nodes.push({ manager, server, redis, pool, http: client(await listen(server), { sockets: 64 }) });
  }
  const inspectRedis = await connectRedis(redisUrl);
  const inspect = await store(inspectRedis, backend === 'postgres' ? newPool({ connectionString: postgresUrl, max: 4 }) : undefined);
  return {
    backend,
    nodes,
    inspect,
    prefix,
    table,
    async close() {
      for (const node of nodes) {
        node.http.close();
        await new Promise((resolve) => node.server.close(resolve));
        await node.manager.close();
      }
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export async function login(node: Node, user: string): Promise<string> {
  const answer = await node.http.send('POST', '/login', {}, { user });
  const token = answer.headers['session-token'];
  if (answer.status !== 200 || typeof token !== 'string' || token === '') throw new Error(`login failed: ${answer.status} ${answer.body}`);
  return token;
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}
