import supertest from 'supertest';
import { createSessionManager, type SessionManager } from '../../lib/manager.js';
import { lruCache } from '../../lib/caches/lru.js';
import type { SessionOptions } from '../../lib/options.js';
import { redisCache, redisFleet, redisStore } from '../../lib/redis.js';
import { appOf } from '../frameworks/frameworks.js';
import { TEST_SECRET } from '../helpers/records.js';
import type { TestRedisClient } from '../helpers/redis.js';

/**
 * One "instance" of an application: its own manager (own LRU, own Redis store, cache and fleet,
 * and so its own subscriber connection) and its own Express 5 app (the shared test routes), over
 * Redis shared with the others.
 */
export interface Instance {
  readonly manager: SessionManager;
  readonly http: ReturnType<typeof supertest>;
}

export async function instance(options: {
  storeClient: TestRedisClient;
  cacheClient?: TestRedisClient;
  prefix: string;
  /** Put the shared Redis cache behind the LRU. @default true */
  sharedCache?: boolean;
  extra?: SessionOptions;
}): Promise<Instance> {
  const { storeClient, cacheClient = storeClient, prefix, sharedCache = true } = options;
  const manager = createSessionManager({
    store: redisStore({ client: storeClient, prefix }),
    cache: sharedCache ? [lruCache(), redisCache({ client: cacheClient, prefix: `${prefix}cache:` })] : [lruCache()],
    fleet: redisFleet({ client: storeClient, prefix }),
    secret: TEST_SECRET,
    tokenMethod: 'bearer',
    cleanupInterval: false,
    ...options.extra,
  });
  await manager.start();
  return { manager, http: supertest(appOf(manager)) };
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): [string, string] {
  return ['authorization', `Bearer ${token}`];
}

export async function login(target: Instance, user: string | number): Promise<string> {
  const res = await target.http.post('/login').send({ user }).expect(200);
  const token = res.headers['session-token'];
  if (typeof token !== 'string' || token.length === 0) throw new Error('no token in the login response');
  return token;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
