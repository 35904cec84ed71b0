// Store and shared-cache round trips per request: `node bench/roundtrips.mjs [--chain]`
// Runs the real Express middleware in-process over a counting wrapper of the store (and of every
// cache layer), creates a session through `/login`, then counts calls:
//   warm:  N sequential requests with the cache holding the session   → expect 0 store reads
//   cold:  caches cleared, then C concurrent requests with one token   → expect 1 store read (single-flight)
//   after: N more sequential requests                                 → expect 0 store reads
// --chain also runs LRU + Redis cache → PostgreSQL (the recommended chain), when dist/redis.js and
// dist/postgres.js are built; it starts a throwaway Redis and PostgreSQL for it.
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { startPostgres, startRedisServer } from '../test/services/index.mjs';

const { values } = parseArgs({ options: { chain: { type: 'boolean', default: false } } });
const dist = process.env.SOJOURN_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));
const load = (file) => import(pathToFileURL(join(dist, file)).href);
const { sessionMiddleware, createSessionManager, memoryStore, lruCache } = await load('index.js');
const N = 100;
const C = 50;

/** Wraps every method of a store or cache so calls are counted by name. */
function counting(target, counts) {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver);
      if (typeof value !== 'function' || key === 'close') return value;
      return (...args) => {
        counts[key] = (counts[key] ?? 0) + 1;
        return value.apply(object, args);
      };
    },
  });
}

async function measure(label, store, caches) {
  const counts = { store: {}, caches: caches.map(() => ({})) };
  const manager = createSessionManager({
    store: counting(store, counts.store),
    cache: caches.map((cache, i) => counting(cache, counts.caches[i])),
    secret: 'roundtrips-secret',
    cleanupInterval: false,
  });
  await manager.start();
  const app = express();
  app.use(sessionMiddleware({ manager }));
  app.get('/login', async (req, res) => {
    await req.session.setActiveOrder(1);
    res.send('ok');
  });
  app.get('/', (req, res) => res.send(String(req.session.activeOrderId)));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${server.address().port}`;
  const cookie = (await fetch(`${url}/login`)).headers.getSetCookie()[0].split(';')[0];
  const get = async () => {
    const response = await fetch(url, { headers: { cookie } });
    const body = await response.text();
    if (response.status !== 200 || body !== '1') throw new Error(`${label}: answered ${response.status} ${body}`);
  };
  const snapshot = () => JSON.parse(JSON.stringify(counts));
  const phase = async (name, requests, run) => {
    const before = snapshot();
    await run();
    const after = snapshot();
    const reads = (after.store.get ?? 0) - (before.store.get ?? 0);
    const layers = caches.map((cache, i) => `${cache.name}.get ${(after.caches[i].get ?? 0) - (before.caches[i].get ?? 0)}`);
    const writes = ['create', 'update', 'delete'].map((op) => (after.store[op] ?? 0) - (before.store[op] ?? 0)).reduce((a, b) => a + b, 0);
    console.log(`  ${name.padEnd(44)} ${String(requests).padStart(3)} requests: ${reads} store reads (${(reads / requests).toFixed(2)}/request), ` +
      `${writes} store writes; ${layers.join(', ')}`);
    return reads;
  };
  console.log(`${label}:`);
  const warm = await phase('warm cache, sequential', N, async () => {
    for (let i = 0; i < N; i++) await get();
  });
  await manager.clearCache();
  const cold = await phase(`cold cache (cleared), ${C} concurrent, one token`, C, () => Promise.all(Array.from({ length: C }, get)));
  const after = await phase('warm again, sequential', N, async () => {
    for (let i = 0; i < N; i++) await get();
  });
  server.close();
  await manager.close();
  const ok = warm === 0 && cold === 1 && after === 0;
  console.log(`  ${ok ? 'ok' : 'UNEXPECTED'}: warm 0, cold 1 (single-flight), warm again 0\n`);
  return ok;
}

let ok = await measure('memory store + LRU (default)', memoryStore(), [lruCache()]);

if (values.chain) {
  if (!existsSync(join(dist, 'redis.js')) || !existsSync(join(dist, 'postgres.js'))) {
    console.log('LRU + Redis cache → PostgreSQL: pending (dist/redis.js or dist/postgres.js not built)');
  } else {
    const services = [];
    try {
      const redis = await startRedisServer();
      services.push(redis);
      const postgres = await startPostgres();
      services.push(postgres);
      const { redisCache } = await load('redis.js');
      const { postgresStore } = await load('postgres.js');
      const { createClient } = await import('redis');
      const { default: pg } = await import('pg');
      const client = await createClient({ url: redis.url }).connect();
      const pool = new pg.Pool({ connectionString: postgres.url });
      const store = postgresStore({ pool, createTable: true });
      await store.migrate();
      ok = (await measure('LRU + Redis cache → PostgreSQL', store, [lruCache(), redisCache({ client })])) && ok;
      await client.close?.();
      await pool.end();
    } finally {
      await Promise.all(services.map((service) => service.stop()));
    }
  }
}
process.exitCode = ok ? 0 : 1;
