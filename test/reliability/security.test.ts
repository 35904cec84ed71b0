/**
 * Security checks with figures: token entropy and format, only hashes at rest (the whole Redis
 * keyspace and the whole PostgreSQL table scanned after real traffic; test/stores/{redis,postgres}
 * check one record, this checks everything a busy app left behind), production cookie attributes
 * and the missing-secret start-up error (a child process with NODE_ENV=production), a new token at
 * every login, revoking every device of a user on every instance at once, and constant-time secret
 * comparison (timingSafeEqual wrapped at module level in a child process).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createSessionManager, SessionDataError } from '../../lib/index.js';
import { redisStore } from '../../lib/redis.js';
import { freshStore } from '../helpers/postgres.js';
import { keysUnder, sharedRedis, uniquePrefix } from '../helpers/redis.js';
import { report, size } from './figures.js';
import { bearer, fleet, login, pool, type Backend, type Fleet } from './fleet.js';
import { TOKEN_SHAPE } from './tokens.js';
import { TEST_SECRET } from '../helpers/records.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const TOKENS = size(10_000, 100_000);

const fleets: Fleet[] = [];
afterAll(async () => {
  await Promise.all(fleets.map((f) => f.close()));
});

describe('tokens', () => {
  it(`${TOKENS} minted tokens: the documented shape, all distinct, 256 bits of secret that look uniform`, async () => {
    const manager = createSessionManager({ secret: TEST_SECRET, tokenMethod: 'bearer', cleanupInterval: false, cache: false });
    const tokens: string[] = [];
    for (let i = 0; i < TOKENS; i++) tokens.push((await manager.createAnonymousSession()).token);
    await manager.close();
    const ids = tokens.map((t) => t.slice(0, 36));
    const secrets = tokens.map((t) => t.slice(37, 80));
    const bytes = Buffer.concat(secrets.map((s) => Buffer.from(s, 'base64url')));
    const counts = new Array<number>(256).fill(0);
    let ones = 0;
    for (const byte of bytes) {
      counts[byte]!++;
      for (let b = byte; b; b >>= 1) ones += b & 1;
    }
    const expected = bytes.length / 256;
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    const sortedIds = [...ids].sort();
    report('token entropy', {
      tokens: TOKENS,
      shapeOk: tokens.filter((t) => TOKEN_SHAPE.test(t)).length,
      distinctIds: new Set(ids).size,
      distinctSecrets: new Set(secrets).size,
      secretBytes: bytes.length / TOKENS,
      onesFraction: Number((ones / (bytes.length * 8)).toFixed(5)),
      byteChiSquare255dof: Number(chiSquare.toFixed(1)),
      idsTimeOrdered: sortedIds.every((id, i) => id === ids[i]),
    });
    expect(tokens.every((t) => TOKEN_SHAPE.test(t))).toBe(true);
    expect(new Set(ids).size).toBe(TOKENS);
    expect(new Set(secrets).size).toBe(TOKENS);
    expect(bytes.length).toBe(TOKENS * 32);
    expect(Math.abs(ones / (bytes.length * 8) - 0.5)).toBeLessThan(0.005);
    expect(chiSquare).toBeLessThan(400); // 255 degrees of freedom: p < 1e-7 above ~390
    expect(sortedIds).toEqual(ids); // UUID v7: time-ordered, as created
  });

  it('secrets are compared with crypto.timingSafeEqual (wrapped at module level, in a child process)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/reliability-timing-safe.mjs'], { cwd: ROOT });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    report('constant-time comparison', result);
    expect(result.direct).toEqual({ match: true, mismatch: false });
    // Per token: one for its tag (cookie-signature, 124 bytes) and one for its secret's hash (32).
    expect(result.afterDirect).toBe(4);
    expect(result.resolved).toBe(true);
    expect(result.forgedResolved).toBe(false);
    expect(result.calls.length).toBe(8); // and the same per resolution through the manager
    expect(result.calls.every(([a, b]: number[]) => a === b && (a === 32 || a === 124))).toBe(true);
    expect(result.calls.filter(([a]: number[]) => a === 32)).toHaveLength(4);
  });
});

describe('production (NODE_ENV=production, child process)', () => {
  it('Secure; HttpOnly; SameSite=Lax cookies, and no start without a secret of 32 bytes or more, whatever the transport', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/fixtures/reliability-production.mjs'], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    report('production cookie', { refused: result.refused, bearerOnly: result.bearerOnly, shortSecret: result.shortSecret, setCookie: result.setCookie[0].replace(/^session=[^;]+/, 'session=<token>') });
    expect(result.nodeEnv).toBe('production');
    expect(result.refused).toMatchObject({ name: 'SessionConfigError', typeError: true, option: 'secret' });
    expect(result.bearerOnly).toBe('secret');
    expect(result.shortSecret).toBe('secret');
    const attributes = result.setCookie[0].split(';').map((a: string) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/']));
  });
});

describe.each(['redis', 'postgres'] as Backend[])('at rest and across instances on %s', (backend) => {
  it('after real traffic, no token secret anywhere in the store or the shared cache, only their hashes', async () => {
    const f = await fleet(backend, { redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
    fleets.push(f);
    const [a, b] = f.nodes as [Fleet['nodes'][0], Fleet['nodes'][0]];
    const tokens: string[] = [];
    await pool(size(100, 1_000), 8, async (i) => {
      const guest = await a.http.send('POST', '/data/cart', {}, { value: i });
      const token = guest.headers['session-token'] as string;
      tokens.push(token);
      const loggedIn = await b.http.send('POST', '/login', bearer(token), { user: `user-${i % 10}` });
      const next = loggedIn.headers['session-token'] as string;
      tokens.push(next);
      await a.http.send('GET', '/me', bearer(next));
      if (i % 3 === 0) await b.http.send('POST', '/logout', bearer(next));
    });
    const dump = await dumpEverything(f);
    const secrets = tokens.map((t) => t.slice(37, 80));
    const found = secrets.filter((s) => dump.includes(s)).length;
    const hashes = tokens.filter((t) => dump.includes(createHash('sha256').update(t.slice(37, 80)).digest('base64url'))).length;
    report(`secrets at rest, ${backend}`, { tokens: tokens.length, bytesScanned: dump.length, secretsFound: found, hashesFound: hashes });
    expect(found).toBe(0);
    expect(hashes).toBeGreaterThan(0);
  });

  it('deleteSessionsByUser refuses every device of the user on every instance before it returns', async () => {
    const f = await fleet(backend, { size: 3, redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
    fleets.push(f);
    const devices = await Promise.all(Array.from({ length: 6 }, (_, i) => login(f.nodes[i % 3]!, 'ann')));
    const other = await login(f.nodes[0]!, 'bob');
    for (const node of f.nodes) for (const token of [...devices, other]) expect(JSON.parse((await node.http.send('GET', '/me', bearer(token))).body).user).not.toBeNull();
    const caller = f.nodes[1]!;
    const revoked = await caller.manager.deleteSessionsByUser('ann');
    const resolvedAt = performance.now();
    // Every instance confirmed it applied the revoke (the fleet's acks) before the call returned.
    const acceptedOn = async (nodes: typeof f.nodes) => {
      let n = 0;
      for (const node of nodes) for (const token of devices) if (await node.manager.getSessionFromToken(token)) n++;
      return n;
    };
    const callerAcceptedStraightAfter = await acceptedOn([caller]);
    const othersAcceptedStraightAfter = await acceptedOn(f.nodes.filter((node) => node !== caller));
    let acceptedAfter = callerAcceptedStraightAfter + othersAcceptedStraightAfter;
    while (acceptedAfter > 0 && performance.now() - resolvedAt < 1_000) {
      await new Promise((resolve) => setImmediate(resolve)); // LRU hits answer in microtasks: let the feed's socket be read
      acceptedAfter = await acceptedOn(f.nodes);
    }
    const allRefusedWithinMs = Number((performance.now() - resolvedAt).toFixed(2));
    const bobKept = (await Promise.all(f.nodes.map((n) => n.manager.getSessionFromToken(other)))).every(Boolean);
    report(`revoke every device, ${backend}`, {
      instances: 3,
      devices: devices.length,
      revoked: revoked.length,
      callerAcceptedStraightAfter,
      othersAcceptedStraightAfter,
      allRefusedWithinMs,
      otherUserKept: bobKept,
    });
    expect(revoked).toHaveLength(6);
    expect(callerAcceptedStraightAfter).toBe(0);
    expect(othersAcceptedStraightAfter).toBe(0);
    expect(acceptedAfter).toBe(0);
    expect(allRefusedWithinMs).toBeLessThan(200);
    expect(bobKept).toBe(true);
  });
});

describe('login rotates the token', () => {
  it('a new token on login (from a guest) and on every later authenticate; the old ones are refused', async () => {
    const f = await fleet('redis', { redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
    fleets.push(f);
    const [a, b] = f.nodes as [Fleet['nodes'][0], Fleet['nodes'][0]];
    const guest = (await a.http.send('POST', '/data/cart', {}, { value: 1 })).headers['session-token'] as string;
    const first = (await b.http.send('POST', '/login', bearer(guest), { user: 'ann' })).headers['session-token'] as string;
    const second = (await a.http.send('POST', '/login', bearer(first), { user: 'ann' })).headers['session-token'] as string;
    const ids = [guest, first, second].map((t) => t.slice(0, 36));
    expect(new Set([guest, first, second]).size).toBe(3);
    expect(new Set(ids).size).toBe(3);
    for (const node of f.nodes) {
      for (const old of [guest, first]) expect(JSON.parse((await node.http.send('GET', '/me', bearer(old))).body).user).toBeNull();
      expect(JSON.parse((await node.http.send('GET', '/data/cart', bearer(second))).body).value).toBe(1); // the data bag moved along
    }
    report('token rotation', { logins: 2, distinctTokens: 3, oldTokensRefusedOnEveryInstance: true });
  });
});

/** Every key under the fleet's prefix with its value(s), or every row of the table, as one string. */
async function dumpEverything(f: Fleet): Promise<string> {
  const redis = f.nodes[0]!.redis;
  const parts: string[] = [];
  for (const key of await keysUnder(redis, f.prefix)) {
    const type = await redis.type(key);
    const value =
      type === 'hash' ? await redis.hGetAll(key) : type === 'set' ? await redis.sMembers(key) : type === 'zset' ? await redis.zRange(key, 0, -1) : type === 'string' ? await redis.get(key) : type;
    parts.push(key, JSON.stringify(value));
  }
  if (f.backend === 'postgres') {
    const { rows } = await f.nodes[0]!.pool!.query(`SELECT to_jsonb(t)::text AS row FROM "${f.table}" t`);
    parts.push(...rows.map((r) => r.row as string));
  }
  return parts.join('\n');
}

describe.each(['memory', 'redis', 'postgres'] as const)('data keys that name a prototype, on the %s store', (kind) => {
  it('__proto__, constructor and prototype are refused with SessionDataError before the store, and nothing is written', async () => {
    const store =
      kind === 'memory' ? undefined
      : kind === 'redis' ? redisStore({ client: await sharedRedis(), prefix: uniquePrefix('proto') })
      : await freshStore();
    const manager = createSessionManager({ secret: TEST_SECRET, store, cache: false, cleanupInterval: false });
    const session = await manager.createSession();
    await session.set('safe', 1);
    const before = await manager.store.get(session.id!);
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const refused = await (async () => session.set(key, { isAdmin: true }))().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SessionDataError);
      expect(refused).toMatchObject({ code: 'ERR_SESSION_DATA_KEY' });
    }
    const after = await manager.store.get(session.id!);
    expect(after).toEqual(before);
    expect(session.get('isAdmin')).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    await session.close();
    await manager.close();
  });
});

it('a Redis hash field `d:__proto__` written behind sojourn’s back reaches no prototype', async () => {
  const client = await sharedRedis();
  const prefix = uniquePrefix('proto-raw');
  const manager = createSessionManager({ secret: TEST_SECRET, store: redisStore({ client, prefix }), cache: false, cleanupInterval: false });
  const { token, session } = await manager.createAnonymousSession();
  await client.hSet(`${prefix}s:${session.id}`, 'd:__proto__', JSON.stringify({ isAdmin: true }));
  await manager.withSession((s) => {
    expect(s.get('isAdmin')).toBeUndefined();
  }, { token });
  const record = await manager.store.get(session.id);
  expect((record!.data as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  await manager.close();
});
