/**
 * `sojourn/redis`: a shared store, a shared cache and the fleet on the application's own
 * node-redis client (v5 or v6, connected by the application and never closed by sojourn). Nothing
 * here loads the driver: the client is passed in.
 *
 * ```ts
 * const client = await createClient({ url }).connect();
 * const manager = createSessionManager({
 *   store: redisStore({ client }),
 *   cache: [lruCache(), redisCache({ client })],
 *   fleet: redisFleet({ client }),
 * });
 * ```
 */
export { redisStore, type RedisStoreOptions } from './stores/redis.js';
export { redisCache, type RedisCacheOptions } from './caches/redis.js';
export { redisFleet, type RedisFleetOptions } from './fleets/redis.js';
export type { RedisClient, RedisSubscriber } from './drivers/redis.js';
