import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createSessionManager, lruCache, SessionClosedError, topics, type SessionManager } from 'sojourn';
import { redisCache, redisFleet, redisStore } from 'sojourn/redis';
import { sessionOf } from 'sojourn/websocket';
import { appOf, express5Framework, type Route } from '../frameworks/frameworks.js';
import { connectEventStream } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { eventually, sharedRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { bearer, closeHarnesses, connected, harness } from '../websocket/harness.js';

/** Two instances (two managers, each its own fleet and subscriber connection) on one real Redis. */
const managers: SessionManager[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  await closeHarnesses();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

async function fleet(): Promise<{ a: SessionManager; b: SessionManager; client: TestRedisClient; prefix: string }> {
  const client = await sharedRedis();
  const prefix = uniquePrefix('messages');
  const make = async () => {
    const m = createSessionManager({
      store: redisStore({ client, prefix }),
      cache: [lruCache(), redisCache({ client, prefix: `${prefix}cache:` })],
      fleet: redisFleet({ client, prefix: `${prefix}bus:` }),
      secret: TEST_SECRET,
      tokenMethod: 'bearer',
      cleanupInterval: false,
    });
    await m.start();
    managers.push(m);
    return m;
  };
  return { a: await make(), b: await make(), client, prefix: `${prefix}bus:m:` }; // the Redis channels of message topics
}

/** Redis's own count of subscriptions: how many connections listen on each channel, and which channels have any. */
async function numsub(client: TestRedisClient, channel: string): Promise<number> {
  const reply = await client.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', channel]);
  return Number(reply[1]);
}
async function channelsUnder(client: TestRedisClient, prefix: string): Promise<string[]> {
  return client.sendCommand<string[]>(['PUBSUB', 'CHANNELS', `${prefix}*`]);
}

/** Instance B's HTTP side: the shared routes (login…), and one that publishes on the user's topic. */
function appB(manager: SessionManager) {
  return appOf(manager, express5Framework, [
    {
      method: 'post',
      path: '/notify',
      handle: async ({ session, body }) => {
        await session.messages.publish(topics.user(session.user!.id), body);
        return {};
      },
    },
  ]);
}

async function listen(app: http.RequestListener): Promise<number> {
  const server = http.createServer(app);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('session messages across instances (real Redis)', () => {
  it('a WebSocket client on A receives a message published from an HTTP request on B', async () => {
    const { a, b, client, prefix } = await fleet();
    const h = await harness(a, { require: 'user' });
    h.wss.on('connection', (ws: WebSocket) => {
      const session = sessionOf(ws);
      session.messages.subscribe(topics.user(session.user!.id), (message) => ws.send(JSON.stringify({ message })));
    });
    const http = supertest(appB(b));
    const login = await http.post('/login').send({ user: 'ann' }).expect(200);
    const token = login.headers['session-token'] as string;
    const { ws } = await connected(h.url, bearer(token));
    await eventually(async () => (await numsub(client, `${prefix}user:ann`)) === 1, 2_000, 'A to subscribe');
    const received = once(ws, 'message');
    await http.post('/notify').set('authorization', `Bearer ${token}`).send({ type: 'cart', items: 3 }).expect(200);
    expect(JSON.parse(String((await received)[0]))).toEqual({ message: { type: 'cart', items: 3 } });
    ws.close();
    await eventually(async () => a.messages.listenerCount === 0 && (await numsub(client, `${prefix}user:ann`)) === 0, 2_000, 'cleanup');
  });

  it("an SSE client on A streams its user's topic; disconnecting removes the Redis subscription", async () => {
    const { a, b, client, prefix } = await fleet();
    const events: Route = {
      method: 'get',
      path: '/events',
      handle: async ({ session, stream }) => {
        const sse = stream();
        for await (const message of session.messages.stream(topics.user(session.user!.id))) sse.send(message, { event: 'message' });
      },
    };
    const port = await listen(appOf(a, express5Framework, [events]));
    const { token } = await b.createNewAuthenticatedSession({ id: 'bea' }, 'test');
    const sse = await connectEventStream(port, '/events', { authorization: `Bearer ${token}` });
    await eventually(async () => (await numsub(client, `${prefix}user:bea`)) === 1, 2_000, 'A to subscribe');
    await b.messages.publish(topics.user('bea'), { n: 1 });
    await b.messages.publish(topics.user('someone-else'), { n: 0 });
    await b.messages.publish(topics.user('bea'), { n: 2 });
    expect(await sse.received(2)).toEqual([
      { event: 'message', data: '{"n":1}' },
      { event: 'message', data: '{"n":2}' },
    ]);
    sse.close();
    await eventually(() => a.openSessions === 0, 2_000, 'the stream session to close');
    await eventually(async () => (await channelsUnder(client, prefix)).length === 0, 2_000, 'UNSUBSCRIBE');
    expect(a.messages.listenerCount).toBe(0);
  });

  it('one SUBSCRIBE per topic per process, however many listeners; UNSUBSCRIBE when the last goes', async () => {
    const { a, client, prefix } = await fleet();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => a.createSession()));
    const offs = sessions.map((s) => s.messages.subscribe('shared', () => {}));
    await Promise.all(offs.map((off) => off.ready));
    expect(await numsub(client, `${prefix}shared`)).toBe(1);
    for (const off of offs.slice(1)) off();
    await offs[0]!.ready;
    expect(await numsub(client, `${prefix}shared`)).toBe(1);
    await Promise.all(sessions.map((s) => s.close()));
    await eventually(async () => (await numsub(client, `${prefix}shared`)) === 0, 2_000, 'UNSUBSCRIBE');
  });

  it('10,000 sessions that subscribe and close leave zero listeners and zero Redis subscriptions', async () => {
    const { a, b, client, prefix } = await fleet();
    let abandoned = 0;
    for (let i = 0; i < 10_000; i++) {
      const s = await a.createSession();
      s.messages.subscribe(`leak:${i}`, () => {});
      s.messages.subscribe('leak:shared', () => {});
      const stream = s.messages.stream(`leak:stream:${i % 10}`);
      if (i % 2 === 0) void stream.next(); // abandoned mid-wait, never returned
      else abandoned++;
      await s.close();
    }
    expect(abandoned).toBe(5_000);
    expect([a.messages.listenerCount, a.messages.topicCount]).toEqual([0, 0]);
    await eventually(async () => (await channelsUnder(client, prefix)).length === 0, 20_000, 'every UNSUBSCRIBE');
    // the connection still works afterwards
    const s = await a.createSession();
    const heard: unknown[] = [];
    await s.messages.subscribe('after', (m) => heard.push(m)).ready;
    await b.messages.publish('after', 'ok');
    await eventually(() => heard.length === 1, 2_000, 'delivery');
    await s.close();
  }, 60_000);

  it('a revoke on B publishes { type: "revoked" } that a session on A hears', async () => {
    const { a, b } = await fleet();
    const { session: record } = await b.createNewAuthenticatedSession({ id: 'cy' }, 'test');
    await using watcher = await a.createSession();
    const heard: unknown[] = [];
    await watcher.messages.subscribe(topics.session(record.id), (m) => heard.push(m)).ready;
    await b.deleteSession(record.id);
    await eventually(() => heard.length === 1, 2_000, 'the revoked message');
    expect(heard).toEqual([{ type: 'revoked' }]);
  });

  it('a message published after the session closed throws SessionClosedError', async () => {
    const { a } = await fleet();
    const s = await a.createSession();
    const messages = s.messages;
    await s.close();
    expect(() => messages.publish('c', 1)).toThrow(SessionClosedError);
    expect(() => s.messages).toThrow(SessionClosedError);
  });

});
