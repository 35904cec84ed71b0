import express from 'express';
import request from 'supertest';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createSessionManager, lruCache, sessionMiddleware, type SessionManager, type SessionOptions } from '../../lib/index.js';
import { postgresFleet, postgresStore } from '../../lib/postgres.js';
import { redisCache, redisFleet } from '../../lib/redis.js';
import { newPool, uniqueTable } from '../helpers/postgres.js';
import { connectRedis, uniquePrefix } from '../helpers/redis.js';
import { TEST_SECRET } from '../helpers/records.js';

const MINUTE = 60_000;

/**
 * The recommended production set-up: caches in front of `postgresStore({ pool })`, two instances
 * (each its own pool, caches and Express app) on one database, driven over HTTP with bearer tokens.
 */
type Backends = (table: string) => Promise<Pick<SessionOptions, 'cache' | 'fleet'>>;

async function twoInstances(backends: Backends) {
  const table = uniqueTable();
  let now = Date.now();
  const clock = () => now;
  const instances = await Promise.all([0, 1].map(async (): Promise<Instance> => {
    const manager = createSessionManager({
      secret: TEST_SECRET,
      store: postgresStore({ pool: newPool({ max: 5 }), table, createTable: true }),
      ...(await backends(table)),
      tokenMethod: 'bearer',
      cleanupInterval: false,
      clock,
    });
    const app = express();
    app.use(sessionMiddleware({ manager }));
    app.post('/cart', async (req, res) => {
      await req.session.set('cart', [{ sku: 'A-1', qty: 2 }]);
      await req.session.setActiveOrder({ id: 1001 });
      res.json({ id: req.session.id });
    });
    app.post('/login', async (req, res) => {
      await req.session.authenticate({ id: 42, name: 'Ada' }, 'native');
      res.json({ id: req.session.id });
    });
    app.post('/logout', async (req, res) => {
      await req.session.destroy();
      res.end();
    });
    app.get('/me', (req, res) => {
      res.json({ id: req.session.id ?? null, user: req.session.user ?? null, cart: req.session.get('cart') ?? null, order: req.session.activeOrderId ?? null });
    });
    return { manager, app };
  }));
  return {
    instances: instances as [Instance, Instance],
    advance: (ms: number) => (now += ms),
    close: () => Promise.all(instances.map((i) => i.manager.close())),
  };
}

interface Instance {
  manager: SessionManager;
  app: express.Express;
}

/** A guest cart on one instance, login on the other, logout (refused on both before it returns), and the cleanup job. */
async function scenario(backends: Backends) {
  const { instances, advance, close } = await twoInstances(backends);
  onTestFinished(async () => void (await close()));
  const [a, b] = instances;
  const idOf = async (app: express.Express, token: string) =>
    (await request(app).get('/me').set('authorization', `Bearer ${token}`).expect(200)).body.id as string | null;

  const cart = await request(a.app).post('/cart').expect(200);
  const guestToken = cart.headers['session-token'] as string;
  expect(guestToken).toMatch(/^[0-9a-f-]{36}\./); // a bearer-only app: the token comes back in the header
  const seen = await request(b.app).get('/me').set('authorization', `Bearer ${guestToken}`).expect(200);
  expect(seen.body).toEqual({ id: cart.body.id, user: null, cart: [{ sku: 'A-1', qty: 2 }], order: 1001 });

  const login = await request(b.app).post('/login').set('authorization', `Bearer ${guestToken}`).expect(200);
  const token = login.headers['session-token'] as string;
  expect(token).not.toBe(guestToken); // a new token at login: no fixation
  const me = await request(a.app).get('/me').set('authorization', `Bearer ${token}`).expect(200);
  expect(me.body).toMatchObject({ user: { id: 42, name: 'Ada' }, cart: [{ sku: 'A-1', qty: 2 }], order: 1001 });
  expect(await idOf(b.app, guestToken)).toBeNull(); // the guest record is superseded: honoured for nothing

  await request(b.app).post('/logout').set('authorization', `Bearer ${token}`).expect(200);
  expect(await idOf(b.app, token)).toBeNull();
  expect(await idOf(a.app, token)).toBeNull(); // refused on A before B's logout answered
  expect(await idOf(a.app, guestToken)).toBeNull();

  // Expired sessions go with the cleanup job, run by one instance: the new cart, and the guest
  // record the login superseded (it expired at the end of its grace window).
  await request(a.app).post('/cart').expect(200);
  advance(31 * 24 * 60 * MINUTE);
  const counts = await Promise.all([a.manager.triggerCleanSessionsJob(), b.manager.triggerCleanSessionsJob()]);
  expect([...counts].sort()).toEqual([0, 2]);
}

describe('production set-up: caches in front of postgresStore, two instances over HTTP', () => {
  it('[lruCache(), redisCache()] + redisFleet', async () => {
    const prefix = uniquePrefix('pg-chain');
    await scenario(async () => {
      const client = await connectRedis();
      return { cache: [lruCache(), redisCache({ client, prefix })], fleet: redisFleet({ client, prefix }) };
    });
  });

  it('[lruCache()] + postgresFleet: PostgreSQL alone', async () => {
    await scenario(async (table) => ({ fleet: postgresFleet({ pool: newPool({ max: 3 }), channel: `fleet_${table}` }) }));
  });
});
