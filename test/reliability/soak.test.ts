/**
 * Soak: the example shop (Redis store + [lruCache, redisCache]) under mixed traffic — read, add to
 * cart, log in, log out, SSE streams opened and dropped — for 30 s (CI) or 10 minutes (full), in a
 * child process started with --expose-gc (test/fixtures/reliability-soak.mjs). Measured after GC
 * at the end of a warm-up (a fifth of the time) and at the end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, inject, it } from 'vitest';
import { report, size } from './figures.js';

const run = promisify(execFile);
const DURATION_MS = size(30_000, 600_000);
/** Heap after GC may grow this much past the warm-up baseline (the shop keeps its orders in memory). */
const HEAP_MARGIN_MB = size(8, 16);

it(`soak: ${DURATION_MS / 1000} s of mixed traffic on the example shop leaves no sessions, handles, timers, listeners or subscriptions behind`, async () => {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/reliability-soak.mjs', String(DURATION_MS), inject('redisUrl')], {
    cwd: new URL('../..', import.meta.url).pathname,
    maxBuffer: 16 * 2 ** 20,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  const { baseline, final } = result;
  report('soak', { ...result, heapGrowthMB: Number((final.heapUsedMB - baseline.heapUsedMB).toFixed(2)), heapMarginMB: HEAP_MARGIN_MB });
  expect(result.counts.errors).toBe(0);
  expect(result.counts.streams).toBeGreaterThan(0);
  expect(final.openSessions).toBe(0);
  expect(final.openSockets).toBe(0);
  expect(final.handles).toBe(baseline.handles);
  expect(final.resources).toEqual(baseline.resources); // no Timeout left over: keep-alive timers, renewals…
  expect(final.listeners).toEqual(baseline.listeners);
  expect(final.redisClients).toBe(baseline.redisClients);
  expect(final.subscribers).toEqual(baseline.subscribers);
  expect(result.maxSocketListeners.late).toBeLessThanOrEqual(result.maxSocketListeners.early);
  expect(final.heapUsedMB - baseline.heapUsedMB).toBeLessThan(HEAP_MARGIN_MB);
}, DURATION_MS + 120_000);
