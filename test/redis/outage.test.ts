import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, eventually, keysUnder, sharedRedis, startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis.js';
import { unknownToken } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { captureWarnings } from '../helpers/warnings.js';
import { bearer, instance, login, type Instance } from './apps.js';

/**
 * Redis going away and coming back, with real servers: an extra throwaway redis-server is
 * SIGKILLed mid-test and restarted on the same port, and the same apps (never recreated) must
 * degrade and then recover.
 */
let extra: RedisServer | undefined;
// Registered first, so it runs after the managers closed (after-hooks run in reverse order).
afterEach(async () => {
  await extra?.stop('SIGKILL');
  extra = undefined;
});

const running: Instance[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((i) => i.manager.close()));
});


describe('the Redis cache server dies', () => {
  it('requests still answer 200 through the store, then use the cache again once it is back', async () => {
    extra = await startRedisServer();
    const prefix = uniquePrefix('outage-cache');
    const storeClient = await sharedRedis();
    const cacheA = await connectRedis(extra.url);
    const cacheB = await connectRedis(extra.url);
    const a = await instance({ storeClient, cacheClient: cacheA, prefix });
    const b = await instance({ storeClient, cacheClient: cacheB, prefix });
    running.push(a, b);
    const before = await login(a, 'ada');

    const port = extra.port;
    await extra.stop('SIGKILL');
    await eventually(() => !cacheA.isReady && !cacheB.isReady, 5_000, 'the clients to notice');
    const warnings = captureWarnings();

    // B never saw this token: its LRU misses, Redis fails at once, the store answers.
    const started = Date.now();
    expect((await b.http.get('/me').set(...bearer(before)).expect(200)).body.user).toEqual({ id: 'ada' });
    const during = await login(b, 'bob');
    expect((await a.http.get('/me').set(...bearer(during)).expect(200)).body.user).toEqual({ id: 'bob' });
    await a.http.post('/data/cart').set(...bearer(during)).send({ value: [1] }).expect(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(warnings.codes).toContain('SOJOURN_CACHE_DOWN');

    extra = await startRedisServer(port);
    await eventually(() => cacheA.isReady && cacheB.isReady, 15_000, 'the clients to reconnect');
    const after = await login(a, 'cy');
    expect((await b.http.get('/me').set(...bearer(after)).expect(200)).body.user).toEqual({ id: 'cy' });
    expect(await keysUnder(cacheA, `${prefix}cache:c:`)).not.toEqual([]);
    expect(warnings.codes).toContain('SOJOURN_CACHE_RECOVERED');

    // Revocations cross instances: the fleet (on the store's Redis) never stopped.
    await a.manager.getSessionFromToken(after); // in A's LRU
    await b.manager.deleteSession((await b.manager.getSessionFromToken(after))!.id);
    expect(await a.manager.getSessionFromToken(after)).toBeUndefined();
  });
});

describe('the Redis store server dies', () => {
  it('answers 503 SessionStoreError through Express, then works again without recreating the app', async () => {
    extra = await startRedisServer();
    const storeClient = await connectRedis(extra.url);
    const a = await instance({ storeClient, prefix: uniquePrefix('outage-store'), sharedCache: false });
    running.push(a);
    const before = await login(a, 'ada');
    await a.http.get('/me').set(...bearer(before)).expect(200);

    const port = extra.port;
    const warnings = captureWarnings();
    await extra.stop('SIGKILL');
    await eventually(() => !storeClient.isReady, 5_000, 'the client to notice');

    const refused = await a.http.post('/login').send({ user: 'bob' });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ code: 'ERR_SESSION_STORE', error: 'SessionStoreError' });
    expect((await a.http.get('/me').set(...bearer(unknownToken(TEST_SECRET)))).status).toBe(503);

    extra = await startRedisServer(port);
    await eventually(() => storeClient.isReady, 15_000, 'the client to reconnect');
    const after = await login(a, 'cy');
    expect((await a.http.get('/me').set(...bearer(after)).expect(200)).body.user).toEqual({ id: 'cy' });
    // Redis without persistence lost every session; the fleet's reconnect emptied the LRU too.
    await eventually(async () => (await a.http.get('/me').set(...bearer(before))).body.user === null, 5_000, 'the lost session to be refused');
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
  });
});

describe('the Redis store server dies with requests in flight', () => {
  it('in-flight and new requests get a 503 as soon as the client reports the loss (under a second), not after storeTimeout (5 s)', async () => {
    extra = await startRedisServer();
    const storeClient = await connectRedis(extra.url);
    const blocker = await connectRedis(extra.url);
    const a = await instance({ storeClient, prefix: uniquePrefix('inflight'), sharedCache: false, extra: { cache: false, storeTimeout: '5s' } });
    running.push(a);
    const token = await login(a, 'ada');
    const warnings = captureWarnings();
    let lostAt = 0;
    storeClient.on('error', () => (lostAt ||= performance.now()));
    await blocker.sendCommand(['CLIENT', 'PAUSE', '2000', 'ALL']); // the server stops answering: requests pile up in flight
    await new Promise((resolve) => setTimeout(resolve, 50));
    const inFlight = Array.from({ length: 10 }, async () => {
      const res = await a.http.get('/me').set(...bearer(token));
      return { status: res.status, at: performance.now() };
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await extra.stop('SIGKILL');
    const answers = await Promise.all(inFlight);
    const fresh = performance.now();
    const after = await a.http.get('/me').set(...bearer(token));
    const freshMs = performance.now() - fresh;
    expect(lostAt).toBeGreaterThan(0);
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(503));
    // Tens of milliseconds on an idle machine; the bound leaves room for a loaded one.
    for (const answer of answers) expect(answer.at - lostAt).toBeLessThan(1_000);
    expect(after.status).toBe(503);
    expect(freshMs).toBeLessThan(1_000);
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
  });
});
