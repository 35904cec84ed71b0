import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { postgresFleet } from '../../lib/postgres.js';
import { fleetContract } from '../contract/fleet.js';
import { eventually } from '../helpers/redis.js';
import { newPool, sharedPool } from '../helpers/postgres.js';
import { captureWarnings } from '../helpers/warnings.js';

const channel = () => `fleet_${randomBytes(5).toString('hex')}`;

fleetContract('postgres', () => {
  const name = channel();
  // Two pools: two processes.
  return { a: postgresFleet({ pool: newPool({ max: 4 }), channel: name }), b: postgresFleet({ pool: newPool({ max: 4 }), channel: name }) };
});

describe('postgresFleet', () => {
  it('counts the instances listening through their shared advisory lock, and forgets one that closed', async () => {
    const name = channel();
    const [a, b] = [postgresFleet({ pool: newPool({ max: 3 }), channel: name }), postgresFleet({ pool: newPool({ max: 3 }), channel: name })];
    await a.start(() => {});
    expect(await a.publish('t', 'x')).toBe(1);
    await b.start(() => {});
    expect(await a.publish('t', 'x')).toBe(2);
    await b.close();
    expect(await a.publish('t', 'x')).toBe(1);
    await a.close();
  });

  it('refuses a message over NOTIFY’s 8000 bytes, naming the limit', async () => {
    const fleet = postgresFleet({ pool: sharedPool(), channel: channel() });
    await expect(fleet.publish('t', 'x'.repeat(8_000))).rejects.toThrow(/8000 bytes/);
  });

  it('reports a listening connection that broke, and listens again by itself', async () => {
    const warnings = captureWarnings();
    const pool = newPool({ max: 3 });
    const name = channel();
    const fleet = postgresFleet({ pool, channel: name });
    const heard: boolean[] = [];
    await fleet.start((listening) => heard.push(listening));
    await sharedPool().query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_advisory_lock_shared($1, $2)'`);
    await eventually(() => heard.includes(false), 3_000, 'the cut');
    await eventually(() => heard.at(-1) === true, 5_000, 'the new listening connection');
    const got: string[] = [];
    const sub = fleet.subscribe('t', (message) => got.push(message));
    await sub.ready;
    await postgresFleet({ pool: sharedPool(), channel: name }).publish('t', 'after');
    await eventually(() => got.includes('after'), 2_000, 'a message after the reconnect');
    expect(warnings.codes).toContain('SOJOURN_FLEET_DOWN');
    await fleet.close();
  });

  it('validates its options, naming them', () => {
    expect(() => postgresFleet({} as never)).toThrow(/postgresFleet\.pool/);
    expect(() => postgresFleet({ pool: sharedPool(), channel: 'not valid!' })).toThrow(/postgresFleet\.channel/);
  });
});
