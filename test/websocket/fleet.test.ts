import { afterEach, describe, expect, it, vi } from 'vitest';
import { lruCache } from '../../lib/caches/lru.js';
import { createSessionManager, type SessionManager } from '../../lib/manager.js';
import { redisCache, redisFleet, redisStore } from '../../lib/redis.js';
import { sharedRedis, uniquePrefix } from '../helpers/redis.js';
import { bearer, closeHarnesses, closedWith, connect, connected, harness } from './harness.js';
import { TEST_SECRET } from '../helpers/records.js';

/** Two instances on one real Redis: the socket lives on A, the revoke happens on B. */
const managers: SessionManager[] = [];
afterEach(async () => {
  await closeHarnesses();
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

async function fleet(): Promise<[SessionManager, SessionManager]> {
  const client = await sharedRedis();
  const prefix = uniquePrefix('ws-fleet');
  const make = async () => {
    const m = createSessionManager({
      secret: TEST_SECRET,
      store: redisStore({ client, prefix }),
      cache: [lruCache(), redisCache({ client, prefix: `${prefix}cache:` })],
      fleet: redisFleet({ client, prefix }),
      tokenMethod: 'bearer',
      cleanupInterval: false,
    });
    await m.start(); // the fleet listens
    managers.push(m);
    return m;
  };
  return [await make(), await make()];
}

describe('WebSocket sessions across instances (real Redis)', () => {
  it('deleteSessionsByUser on B closes the socket held on A with 4401', async () => {
    const [a, b] = await fleet();
    const h = await harness(a, { require: 'user' });
    const { token } = await a.createNewAuthenticatedSession({ id: 'ann' }, 'password');
    const other = await a.createNewAuthenticatedSession({ id: 'bob' }, 'password');
    const ann = await connected(h.url, bearer(token));
    const bob = await connected(h.url, bearer(other.token));
    expect(ann.greeting).toMatchObject({ kind: 'websocket', user: { id: 'ann' } });
    const closed = closedWith(ann.ws);
    expect(await b.deleteSessionsByUser('ann')).toHaveLength(1);
    expect(await closed).toEqual({ code: 4401, reason: 'session revoked' });
    await vi.waitFor(() => expect(a.openSessions).toBe(1));
    expect(bob.ws.readyState).toBe(bob.ws.OPEN);
    bob.ws.close();
  });

  it('deleteSession on B closes the socket on A, and A then refuses the token at the upgrade', async () => {
    const [a, b] = await fleet();
    const h = await harness(a, { require: 'session' });
    const { token, session } = await b.createNewAuthenticatedSession({ id: 'cy' }, 'password');
    const { ws } = await connected(h.url, bearer(token));
    const closed = closedWith(ws);
    await b.deleteSession(session.id);
    expect((await closed).code).toBe(4401);
    await vi.waitFor(() => expect(a.openSessions).toBe(0));
    expect(await connect(h.url, bearer(token))).toMatchObject({ status: 401 });
  });
});
