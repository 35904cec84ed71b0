import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, type FutureCallOptions, type FutureCallQueue, type SessionManager } from '../../lib/index.js';
import type { QueueBackend } from '../contract/queue.js';
import { postgresUrl } from '../helpers/postgres.js';
import { bullmqBackend, memoryBackend, pgBossBackend } from '../helpers/queues.js';
import { eventually, redisUrl } from '../helpers/redis.js';
import { report } from '../reliability/figures.js';

/**
 * Several instances on one queue, in real time: each due call runs once, a killed instance's call
 * runs again elsewhere, a restart picks up what was scheduled before it, a cron tick runs once.
 */
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function instance(queue: FutureCallQueue, futureCalls: Omit<FutureCallOptions, 'queue'> = {}): SessionManager {
  const manager = createSessionManager({ secret: 's', cleanupInterval: false, futureCalls: { queue, pollInterval: 20, ...futureCalls } });
  managers.push(manager);
  return manager;
}

const backends: { name: string; backend: QueueBackend; worker?: string }[] = [
  { name: 'memory', backend: memoryBackend },
  { name: 'BullMQ', backend: bullmqBackend(), worker: 'bullmq' },
  { name: 'BullMQ on a Redis Cluster', backend: bullmqBackend({ cluster: true }) },
  { name: 'pg-boss', backend: pgBossBackend(), worker: 'pg-boss' },
];

describe.each(backends)('$name: a fleet on one queue', ({ name, backend }) => {
  it('500 calls due at once run exactly once in total across two instances', async () => {
    const handle = await backend.fresh();
    const a = instance(await handle(), { concurrency: 4 });
    const b = instance(await handle(), { concurrency: 4 });
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
    await eventually(() => runs.size === 500, 30_000, 'all 500 calls to run');
    const elapsed = performance.now() - started;
    await sleep(backend.pickup + 100); // a double run would show up now
    const all = [...runs.values()];
    const twice = all.filter((labels) => labels.length > 1).length;
    const byA = all.filter(([label]) => label === 'a').length;
    report(`future calls across instances, ${name}`, { calls: 500, instances: 2, concurrency: 4, ms: Math.round(elapsed), ranOnA: byA, ranOnB: 500 - byA, ranTwice: twice });
    expect(twice).toBe(0);
    expect(await a.futureCalls.queue.size()).toBe(0);
    if (name !== 'pg-boss') expect(byA * (500 - byA)).toBeGreaterThan(0); // both took a share (pg-boss: one may drain it first)
  });
});

describe.each(backends.filter((b) => b.backend.secondsCron))('$name: cron across instances', ({ name, backend }) => {
  it('a per-second cron series over 5 ticks runs 5 times, not 10', async () => {
    const handle = await backend.fresh();
    const [a, b] = [instance(await handle()), instance(await handle())];
    const ticks: number[] = [];
    for (const manager of [a, b]) manager.futureCalls.register('beat', () => void ticks.push(Math.floor(Date.now() / 1_000)));
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a, b].map((m) => m.futureCalls.every('beat', null, { cron: '* * * * * *' }, { identifier: 'beat' })));
    await eventually(() => ticks.length > 0, 3_000, 'the first tick');
    const first = ticks[0]!;
    await eventually(() => Date.now() / 1_000 >= first + 5.5, 8_000, 'five ticks');
    const window = ticks.filter((tick) => tick >= first && tick < first + 5);
    report(`cron across two instances, ${name}`, { ticks: 5, runs: window.length });
    expect(window).toEqual([first, first + 1, first + 2, first + 3, first + 4]);
  });
});

describe('pg-boss: cron across instances', () => {
  it('a per-minute cron series runs once per minute across two instances (its resolution)', async () => {
    const handle = await pgBossBackend().fresh();
    const [a, b] = [instance(await handle()), instance(await handle())];
    const minutes: number[] = [];
    for (const manager of [a, b]) manager.futureCalls.register('minutely', () => void minutes.push(Math.floor(Date.now() / 60_000)));
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a, b].map((m) => m.futureCalls.every('minutely', null, { cron: '* * * * *' }, { identifier: 'minutely' })));
    // pg-boss sends the current minute's job at its next cron check (every second here), once fleet-wide.
    await eventually(() => minutes.length > 0, 10_000, 'the first run');
    await sleep(4_000); // both instances' cron checks ran several times meanwhile
    report('cron across two instances, pg-boss', { minutes: new Set(minutes).size, runs: minutes.length });
    expect(minutes.length).toBe(new Set(minutes).size);
  });
});

describe.each(backends.filter((b) => b.worker))('$name: durability', ({ name, backend, worker }) => {
  it('a restart picks up the calls scheduled before it', async () => {
    const handle = await backend.fresh();
    const before = instance(await handle());
    before.futureCalls.register('mail', () => {});
    await before.futureCalls.callWithDelay('mail', { to: 'a' }, 0);
    await before.futureCalls.callWithDelay('mail', { to: 'b' }, 150);
    await before.close(); // never started: nothing ran
    const after = instance(await handle());
    const got: unknown[] = [];
    after.futureCalls.register('mail', (_s, payload) => void got.push(payload));
    await after.start();
    await eventually(() => got.length === 2, 10_000, `${name}: the calls from before the restart`);
    expect(got).toEqual([{ to: 'a' }, { to: 'b' }]);
  });

  it('a call whose instance process is killed mid-run runs again on another instance', async () => {
    const handle = await backend.fresh();
    const lease = 1_000;
    // pg-boss counts a run that timed out as an attempt: the call needs a retry left to run again.
    const survivor = instance(await handle(), { lease, pollInterval: 500, retries: { limit: 1, delay: 1_000 } });
    const reran: { payload: unknown; at: number }[] = [];
    survivor.futureCalls.register('slow', (_s, payload) => void reran.push({ payload, at: performance.now() }));
    await survivor.futureCalls.callWithDelay('slow', { order: 42 }, 0);
    const child = spawnWorker(worker!, worker === 'bullmq' ? redisUrl() : postgresUrl(), handle.queueName!, lease);
    await child.waitFor('started {"order":42}');
    await survivor.start();
    await sleep(lease * 1.5); // the worker's lock renewals (BullMQ) keep the call its own meanwhile
    expect(reran).toEqual([]);
    const killedAt = performance.now();
    child.process.kill('SIGKILL');
    await eventually(() => reran.length === 1, 15_000, 'the re-run on the surviving instance');
    const after = reran[0]!.at - killedAt;
    report(`future call re-run after a kill, ${name}`, { rerunAfterKillMs: Math.round(after), leaseMs: lease });
    expect(reran[0]!.payload).toEqual({ order: 42 });
    await sleep(500);
    expect(reran).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

function spawnWorker(backend: string, url: string, queueName: string, lease: number) {
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a child process, which a
  // SIGKILL of the CLI would leave running.
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const script = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, backend, url, queueName, String(lease)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    process: child,
    waitFor: (line: string) => eventually(() => output.includes(line), 20_000, `the worker to print "${line}" (output so far: ${output})`),
  };
}
