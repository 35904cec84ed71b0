import { describe, expect, it } from 'vitest';
import { memoryFleet } from '../../lib/fleets/memory.js';
import { fleetContract } from '../contract/fleet.js';

fleetContract('memory', () => {
  const fleet = memoryFleet();
  return { a: fleet, b: fleet }; // two managers of one process share one memoryFleet()
});

describe('memoryFleet', () => {
  it('delivers synchronously, in subscription order', async () => {
    const fleet = memoryFleet();
    const got: string[] = [];
    fleet.subscribe('t', () => got.push('first'));
    fleet.subscribe('t', () => got.push('second'));
    const published = fleet.publish('t', 'x');
    expect(got).toEqual(['first', 'second']);
    expect(await published).toBe(2);
  });

  it('a lock is held until released; a second fleet is a second process', async () => {
    const [one, two] = [memoryFleet(), memoryFleet()];
    const release = await one.lock('job', 60_000);
    expect(await one.lock('job', 60_000)).toBeUndefined();
    expect(await two.lock('job', 60_000)).toBeTypeOf('function');
    await release!();
  });
});
