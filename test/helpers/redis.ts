import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientOptions } from 'redis';
import { afterAll, inject } from 'vitest';

export { startRedisServer, type RedisServer } from '../services/index.mjs';

export type TestRedisClient = ReturnType<typeof createClient>;

/**
 * Clients on the throwaway server of test/setup/services.ts (or any other). Every client made here
 * is closed after the file's tests; every store and cache gets a unique prefix, so each starts
 * empty without a FLUSH.
 */
const clients: TestRedisClient[] = [];
afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => closeClient(client)));
});

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A connected client; connection errors (a server killed on purpose) are left to the reconnect logic. */
export async function connectRedis(url = redisUrl(), options: RedisClientOptions = {}): Promise<TestRedisClient> {
  const client = createClient({ url, ...options }) as TestRedisClient;
  client.on('error', () => {});
  clients.push(client);
  await client.connect();
  return client;
}

let shared: Promise<TestRedisClient> | undefined;
/** One client per test file for the common case. */
export function sharedRedis(): Promise<TestRedisClient> {
  shared ??= connectRedis();
  return shared;
}

export function uniquePrefix(name = 'test'): string {
  return `sojourn-test:${name}:${randomBytes(5).toString('hex')}:`;
}

/** Every key under `prefix` (SCAN: fine in a test, never in the library's hot paths). */
export async function keysUnder(client: TestRedisClient, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...batch);
  return keys.sort();
}

export async function closeClient(client: TestRedisClient): Promise<void> {
  if (!client.isOpen) return;
  if (client.isReady) await client.close().catch(() => client.destroy());
  else client.destroy();
}

/** Polls `check` until it holds (real time: for the few end-to-end checks that need it). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
