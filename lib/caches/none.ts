import type { SessionCache } from './types.js';

/** No caching: every lookup reads the store. For stores that are caches themselves, and for tests. */
export function noCache(): SessionCache {
  return {
    name: 'none',
    get: () => undefined,
    set: () => {},
    delete: () => {},
    clear: () => {},
  };
}
