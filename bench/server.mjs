// One benchmark server: `node bench/server.mjs <variant> <port>`.
// Every variant serves the same two routes:
//   GET /login  creates a session holding activeOrderId = 1 and answers its cookie (bare Express
//               and the no-op answer a cookie of the same size, so every request is the same size);
//   GET /       reads the session and returns one field (activeOrderId) as text.
// `lookup` is not a session layer: it is the least one could do, a floor to measure against.
// `*-write` variants also set the active order on every 5th request of `/` (awaited).
// Redis and PostgreSQL come from BENCH_REDIS_URL / BENCH_PG_URL; the built package from
// SOJOURN_DIST (default ../dist). A variant whose backend is not built yet reports itself pending.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import express from 'express';

export const SECRET = 'bench-secret-bench-secret-bench-secret';
/** The token (124 characters) with the `+` and `/` of its base64 tag URI-encoded: about 127. */
const SOJOURN_COOKIE_LENGTH = 127;

const DIST = process.env.SOJOURN_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));

/** name → what it is; run.mjs prints them in this order. */
export const VARIANTS = {
  bare: 'bare Express (no session layer)',
  noop: 'bare Express + one no-op middleware (the floor of any middleware)',
  lookup: 'bare Express + a remembered cookie → record lookup (the floor of any session layer)',
  'es-memory': 'express-session + MemoryStore',
  'es-redis': 'express-session + connect-redis',
  sojourn: 'sojourn default (memory store + LRU)',
  'sojourn-redis': 'sojourn, Redis store, no cache',
  'sojourn-chain': 'sojourn, LRU + Redis cache → PostgreSQL',
  'es-memory-write': 'express-session + MemoryStore, 1 write in 5',
  'sojourn-write': 'sojourn default, 1 write in 5',
};

class Pending extends Error {}

async function distModule(file, exportName) {
  const path = join(DIST, file);
  if (!existsSync(path)) throw new Pending(`${file} is not built yet (needs ${exportName})`);
  const mod = await import(pathToFileURL(path).href);
  if (typeof mod[exportName] !== 'function') throw new Pending(`${file} does not export ${exportName} yet`);
  return mod;
}

async function redisClient() {
  const url = process.env.BENCH_REDIS_URL;
  if (!url) throw new Pending('no BENCH_REDIS_URL (Redis not started)');
  const { createClient } = await import('redis');
  const client = createClient({ url });
  await client.connect();
  return client;
}

async function postgresPool() {
  const url = process.env.BENCH_PG_URL;
  if (!url) throw new Pending('no BENCH_PG_URL (PostgreSQL not started)');
  const { default: pg } = await import('pg');
  return new pg.Pool({ connectionString: url, max: 10 });
}

/** The session middleware of a variant, plus how a route reads, writes and creates. */
async function sessionLayer(variant) {
  const base = variant.replace(/-write$/, '');
  if (base === 'bare' || base === 'noop') {
    const fixed = Object.freeze({ activeOrderId: 1 });
    const middleware = base === 'noop' ? (_req, _res, next) => next() : undefined;
    // The same Cookie header bytes as a sojourn request (name and length of a signed token), so
    // the ratio to bare Express is the session layer's cost, not that of parsing a longer request.
    const create = (_req, res) => res.setHeader('set-cookie', `session=${randomBytes(98).toString('base64url').slice(0, SOJOURN_COOKIE_LENGTH)}; Path=/`);
    return { middleware, read: () => fixed.activeOrderId, write: () => {}, create };
  }
  if (base === 'lookup') return lookupFloor();
  if (base.startsWith('es-')) {
    const { default: session } = await import('express-session');
    let store;
    if (base === 'es-redis') {
      const { RedisStore } = await import('connect-redis');
      store = new RedisStore({ client: await redisClient(), prefix: 'es:' });
    }
    return {
      middleware: session({ secret: SECRET, resave: false, saveUninitialized: false, store }),
      read: (req) => req.session.activeOrderId,
      write: (req, n) => {
        req.session.activeOrderId = n; // saved by express-session when the response ends
      },
      create: (req) => {
        req.session.activeOrderId = 1;
      },
    };
  }
  const { sessionMiddleware, lruCache } = await distModule('index.js', 'sessionMiddleware');
  let options = {};
  if (base === 'sojourn-redis') {
    const { redisStore } = await distModule('redis.js', 'redisStore');
    options = { store: redisStore({ client: await redisClient() }), cache: false };
  } else if (base === 'sojourn-chain') {
    const { redisCache, redisFleet } = await distModule('redis.js', 'redisFleet');
    const { postgresStore } = await distModule('postgres.js', 'postgresStore');
    const store = postgresStore({ pool: await postgresPool(), createTable: true });
    await store.migrate();
    const client = await redisClient();
    options = { store, cache: [lruCache(), redisCache({ client })], fleet: redisFleet({ client }) };
  }
  // Under a tracer (valgrind) everything runs ~50× slower: stretch the timeouts so that the
  // code path measured is the one a normal server takes.
  const traced = process.env.BENCH_TRACED ? { cacheTimeout: '10s', storeTimeout: '60s', fleetTimeout: '10s' } : {};
  return {
    middleware: sessionMiddleware({ ...options, ...traced, secret: SECRET, cookie: { secure: false } }),
    read: (req) => req.session.activeOrderId,
    write: (req, n) => req.session.setActiveOrder(n),
    create: (req) => req.session.setActiveOrder(1),
  };
}

/**
 * The least a cookie-session layer can do on a warm request, to show what is left for the rest:
 * the Cookie header looked up in a memo (no parsing, no signature), the record in a Map (no secret
 * check, no expiry), kept in `res.locals` (no property added to `req`); no session object and
 * nothing done when the response closes.
 */
function lookupFloor() {
  const ids = new Map(); // Cookie header → id
  const records = new Map(); // id → record
  const RECORD = Symbol('record');
  const middleware = (req, res, next) => {
    const header = req.headers.cookie;
    let id = header === undefined ? undefined : ids.get(header);
    if (id === undefined && header !== undefined) ids.set(header, (id = header.slice(header.indexOf('=') + 1).slice(0, 36)));
    res.locals[RECORD] = records.get(id);
    next();
  };
  const create = (_req, res) => {
    const value = randomBytes(98).toString('base64url').slice(0, SOJOURN_COOKIE_LENGTH);
    records.set(value.slice(0, 36), Object.freeze({ activeOrderId: 1 }));
    res.setHeader('set-cookie', `session=${value}; Path=/`);
  };
  return { middleware, read: (_req, res) => res.locals[RECORD].activeOrderId, write: () => {}, create };
}

export async function createApp(variant) {
  if (!(variant in VARIANTS)) throw new Error(`unknown variant ${variant}; one of ${Object.keys(VARIANTS).join(', ')}`);
  const layer = await sessionLayer(variant);
  const writes = variant.endsWith('-write');
  const app = express();
  if (layer.middleware) app.use(layer.middleware);
  let count = 0;
  app.get('/login', async (req, res) => {
    await layer.create(req, res);
    res.send('ok');
  });
  app.get('/', async (req, res) => {
    if (writes && ++count % 5 === 0) await layer.write(req, count);
    res.send(String(layer.read(req, res)));
  });
  // autocannon drops its connections at the end of each run; a sojourn session closes with its
  // request, so a route still awaiting then reads a closed session. Only that case is silenced.
  app.use((error, req, res, next) => {
    if (error?.code === 'ERR_SESSION_CLOSED' && (res.destroyed || req.destroyed)) return;
    next(error);
  });
  return app;
}

// ---------------------------------------------------------------------------------------

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [variant, port = '3000'] = process.argv.slice(2);
  const report = (message) => (process.send ? process.send(message) : console.log(JSON.stringify(message)));
  try {
    const app = await createApp(variant);
    const server = app.listen(Number(port), '127.0.0.1', () => report({ ready: Number(port) }));
    server.keepAliveTimeout = 60_000;
  } catch (error) {
    if (!(error instanceof Pending)) throw error;
    report({ pending: error.message });
    process.exit(3);
  }
  // The parent asks for this process's CPU time around each load: µs of CPU per request is far
  // steadier than req/s on a shared machine.
  process.on('message', (message) => message === 'cpu' && process.send({ cpu: process.cpuUsage() }));
  // A plain exit on a signal, so `node --cpu-prof` writes its profile.
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
  // bench/ics.mjs marks where its counted requests start in V8's IC log: the first run of this
  // load misses its inline cache, and V8 logs the miss with the key.
  process.on('SIGUSR2', () => globalThis['sojourn:ics-mark']);
}
