import { describe, expect, it } from 'vitest';
import { redisFleet } from '../../lib/redis.js';
import { fleetContract } from '../contract/fleet.js';
import { connectRedis, eventually, sharedRedis, uniquePrefix, type TestRedisClient } from '../helpers/redis.js';
import { captureWarnings } from '../helpers/warnings.js';

fleetContract('redis', async () => {
  const client = await sharedRedis();
  const prefix = uniquePrefix('fleet');
  return { a: redisFleet({ client, prefix }), b: redisFleet({ client, prefix }) };
});

let resp3: Promise<TestRedisClient> | undefined;
fleetContract('redis (RESP3 client)', async () => {
  const client = await (resp3 ??= connectRedis(undefined, { RESP: 3 }));
  const prefix = uniquePrefix('fleet3');
  return { a: redisFleet({ client, prefix }), b: redisFleet({ client, prefix }) };
});

/** Connections the server sees, by name: `CLIENT LIST` lines. */
async function connectionsOf(client: TestRedisClient, name: string): Promise<number> {
  const list = await client.sendCommand<string>(['CLIENT', 'LIST']);
  return String(list).split('\n').filter((line) => line.includes(`name=${name} `)).length;
}

describe('redisFleet', () => {
  it('listens on one subscriber connection however many topics and listeners', async () => {
    const name = `fleet-${Date.now()}`;
    const client = await connectRedis(undefined, { name });
    const prefix = uniquePrefix('one');
    const fleet = redisFleet({ client, prefix });
    await fleet.start(() => {});
    const subscriptions = Array.from({ length: 20 }, (_, i) => fleet.subscribe(`topic-${i % 5}`, () => {}));
    await Promise.all(subscriptions.map((s) => s.ready));
    // The publishing client and one duplicate that subscribes (node-redis names the duplicate alike).
    expect(await connectionsOf(client, name)).toBe(2);
    const numsub = await client.sendCommand<(string | number)[]>(['PUBSUB', 'NUMSUB', ...Array.from({ length: 5 }, (_, i) => `${prefix}topic-${i}`)]);
    expect(numsub.filter((_, i) => i % 2 === 1).map(Number)).toEqual([1, 1, 1, 1, 1]);
    subscriptions.forEach((unsubscribe) => unsubscribe());
    await fleet.close();
    await eventually(async () => (await connectionsOf(client, name)) === 1, 2_000, 'the subscriber to close');
  });

  it('a lock ends with its ttl, and a release never deletes a later holder’s lock', async () => {
    const fleet = redisFleet({ client: await sharedRedis(), prefix: uniquePrefix('lock') });
    const first = await fleet.lock('job', 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const second = await fleet.lock('job', 10_000);
    expect(second).toBeTypeOf('function');
    await first!();
    expect(await fleet.lock('job', 10_000)).toBeUndefined();
    await second!();
    expect(await fleet.lock('job', 10_000)).toBeTypeOf('function');
  });

  it('reports when its subscriber is cut and when it is back (CLIENT KILL)', async () => {
    const warnings = captureWarnings();
    const client = await connectRedis();
    const fleet = redisFleet({ client, prefix: uniquePrefix('cut') });
    const heard: boolean[] = [];
    await fleet.start((listening) => heard.push(listening));
    await fleet.subscribe('t', () => {}).ready; // a subscribed connection is one of TYPE pubsub
    await client.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await eventually(() => heard.includes(false), 2_000, 'the cut');
    await eventually(() => heard.at(-1) === true, 5_000, 'the reconnect');
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
    await fleet.close();
  });

  it('validates its options, naming them', async () => {
    expect(() => redisFleet(undefined as never)).toThrow(TypeError);
    expect(() => redisFleet({ client: {} as never })).toThrow(/redisFleet\.client/);
    const client = await sharedRedis();
    expect(() => redisFleet({ client, prefix: 1 as never })).toThrow(/redisFleet\.prefix/);
  });
});
