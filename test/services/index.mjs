// Throwaway servers for the tests and the benchmarks, one way for all: plain Node ESM (the
// benchmarks run without a TypeScript loader), typed by index.d.mts. Nothing outlives its
// starter: see watchdog.mjs.
export { freePort } from './system.mjs';
export { startRedisServer } from './redis.mjs';
export { startRedisCluster } from './redis-cluster.mjs';
export { startPostgres } from './postgres.mjs';
export { CHROMIUM_ARGS, findChromium } from './chromium.mjs';
