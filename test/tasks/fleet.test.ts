import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, memoryQueue, type FutureCallQueue, type SessionManager } from '../../lib/index.js';
import { postgresQueue } from '../../lib/postgres.js';
import { redisQueue } from '../../lib/redis.js';
import { postgresUrl, sharedPool, uniqueTable } from '../helpers/postgres.js';
import { connectRedis, eventually, redisUrl, sharedRedis, uniquePrefix } from '../helpers/redis.js';
import { report } from '../reliability/figures.js';

/**
 * Several instances on one queue, in real time (short polls and leases): each due call runs
 * once, a killed instance's call runs again elsewhere after its lease, a restart picks up what
 * was scheduled before it.
 */
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

function instance(queue: FutureCallQueue, futureCalls: Record<string, unknown> = {}): SessionManager {
  const manager = createSessionManager({ secret: 's', cleanupInterval: false, futureCalls: { queue, pollInterval: 20, ...futureCalls } });
  managers.push(manager);
  return manager;
}

interface Backend {
  name: string;
  /** A fresh, empty queue; `again()` is another handle on the same one (another instance's). */
  fresh(): Promise<{ queue: FutureCallQueue; again(): Promise<FutureCallQueue>; worker?: [string, string] }>;
}

const backends: Backend[] = [
  {
    name: 'memory',
    async fresh() {
      const queue = memoryQueue();
      return { queue, again: async () => queue };
    },
  },
  {
    name: 'redis',
    async fresh() {
      const prefix = uniquePrefix('fleet');
      const queue = redisQueue({ client: await sharedRedis(), prefix });
      return { queue, again: async () => redisQueue({ client: await connectRedis(), prefix }), worker: [redisUrl(), prefix] };
    },
  },
  {
    name: 'postgres',
    async fresh() {
      const table = uniqueTable('calls');
      const queue = postgresQueue({ pool: sharedPool(), table });
      await queue.migrate();
      return { queue, again: async () => postgresQueue({ pool: sharedPool(), table }), worker: [postgresUrl(), table] };
    },
  },
];

describe.each(backends)('$name: a fleet on one queue', ({ name, fresh }) => {
  it('500 calls due at once run exactly once in total across two instances', async () => {
    const { queue, again } = await fresh();
    const a = instance(queue, { concurrency: 4 });
    const b = instance(await again(), { concurrency: 4 });
    const runs = new Map<number, string[]>();
    for (const [label, manager] of [['a', a], ['b', b]] as const) {
      manager.futureCalls.register('work', async (_session, i: number) => {
        runs.set(i, [...(runs.get(i) ?? []), label]);
        await new Promise((resolve) => setImmediate(resolve));
      });
    }
    await Promise.all(Array.from({ length: 500 }, (_, i) => a.futureCalls.callWithDelay('work', i, 0)));
    const started = performance.now();
    await Promise.all([a.start(), b.start()]);
    await eventually(() => runs.size === 500, 20_000, 'all 500 calls to run');
    const elapsed = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100)); // a double run would show up now
    const all = [...runs.values()];
    expect(all.every((labels) => labels.length === 1)).toBe(true);
    expect(await queue.size()).toBe(0);
    const byA = all.filter(([label]) => label === 'a').length;
    report(`future calls across instances, ${name}`, { calls: 500, instances: 2, concurrency: 4, ms: Math.round(elapsed), ranOnA: byA, ranOnB: 500 - byA });
    expect(byA).toBeGreaterThan(0);
    expect(byA).toBeLessThan(500);
  });
});

describe.each(backends.filter((b) => b.name !== 'memory'))('$name: durability', ({ name, fresh }) => {
  it('a restart picks up the calls scheduled before it', async () => {
    const { queue, again } = await fresh();
    const before = instance(queue);
    before.futureCalls.register('mail', () => {});
    await before.futureCalls.callWithDelay('mail', { to: 'a' }, 0);
    await before.futureCalls.callWithDelay('mail', { to: 'b' }, 150);
    await before.close(); // never started: nothing ran
    const after = instance(await again());
    const got: unknown[] = [];
    after.futureCalls.register('mail', (_s, payload) => void got.push(payload));
    await after.start();
    await eventually(() => got.length === 2, 5_000, `${name}: the calls from before the restart`);
    expect(got).toEqual([{ to: 'a' }, { to: 'b' }]);
  });

  it("a call whose instance process is killed mid-run is run again by another instance once its lease expires", async () => {
    const { queue, worker } = await fresh();
    const lease = 1_000;
    const survivor = instance(queue, { lease });
    const reran: { payload: unknown; at: number }[] = [];
    survivor.futureCalls.register('slow', (_s, payload) => void reran.push({ payload, at: performance.now() }));
    await survivor.futureCalls.callWithDelay('slow', { order: 42 }, 0);
    const child = spawnWorker(name, worker!, lease);
    await child.waitFor('started {"order":42}');
    await survivor.start();
    // The worker's heartbeat keeps its lease alive well past one lease period.
    await new Promise((resolve) => setTimeout(resolve, lease * 1.5));
    expect(reran).toEqual([]);
    const killedAt = performance.now();
    child.process.kill('SIGKILL');
    await eventually(() => reran.length === 1, 10_000, 'the re-run on the surviving instance');
    const after = reran[0]!.at - killedAt;
    report(`future call re-run after a kill, ${name}`, { rerunAfterKillMs: Math.round(after), leaseMs: lease });
    expect(reran[0]!.payload).toEqual({ order: 42 });
    expect(after).toBeGreaterThan(lease / 2); // not before the lease (last renewed at most lease/3 before the kill) ran out
    expect(after).toBeLessThan(lease + 1_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reran).toHaveLength(1);
    expect(await queue.size()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

function spawnWorker(backend: string, [url, where]: [string, string], lease: number) {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a child process, which a
  // SIGKILL of the CLI would leave running.
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, backend, url, where, String(lease)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    process: child,
    waitFor: (line: string) => eventually(() => output.includes(line), 15_000, `the worker to print "${line}" (output so far: ${output})`),
  };
}
