/**
 * `sojourn/redis`: a shared store and a shared cache on the application's own node-redis client
 * (v5 or v6, connected by the application and never closed by sojourn). Nothing here loads the
 * driver: the client is passed in.
 *
 * ```ts
 * const client = await createClient({ url }).connect();
 * const manager = createSessionManager({
 *   store: redisStore({ client }),
 *   cache: [lruCache(), redisCache({ client })],
 *   messages: { bus: redisBus({ client }) },
 * });
 * ```
 */
export { redisStore, type RedisStoreOptions } from './stores/redis.js';
export { redisCache, type RedisCacheOptions } from './caches/redis.js';
export { redisQueue, type RedisQueueOptions } from './redis/queue.js';
export { redisBus, type RedisBusOptions } from './messages/redis.js';
export type { RedisClient, RedisSubscriber } from './redis/client.js';
export type { SessionChange, SubscribeToChanges } from './caches/types.js';
