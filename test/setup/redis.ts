/**
 * vitest globalSetup: a throwaway redis-server (no persistence, 127.0.0.1, free port) for the
 * tests that need a real Redis; `provide('redisUrl')`, stopped on teardown. Installs the Debian
 * package first when `redis-server` is missing and we are root.
 *
 * `SOJOURN_TEST_REDIS_URL` skips all that and uses an existing server (a CI service container);
 * the tests then write under unique prefixes and never FLUSH it.
 */
import type { TestProject } from 'vitest/node';
import { startRedisServer } from '../helpers/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the throwaway server. */
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.SOJOURN_TEST_REDIS_URL;
  if (given) {
    project.provide('redisUrl', given);
    return async () => {};
  }
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
