import { SessionStoreError } from '../errors.js';
import type { SessionStore } from './types.js';

const OPERATIONS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'listByActiveChannelId', 'deleteExpired'] as const;

/**
 * The same store, every failure wrapped in a `SessionStoreError` naming the store and the
 * operation. A call that has not settled after `timeoutMs` fails the same way (its `cause` is a
 * `TimeoutError`): a hung store (a dead TCP peer, an exhausted pool) must not hold requests
 * forever. The call itself cannot be cancelled; a late answer is dropped.
 */
export function guardStore(store: SessionStore, timeoutMs = Infinity): SessionStore {
  const guarded: Record<string, unknown> = { name: store.name, shared: store.shared, close: store.close?.bind(store) };
  for (const operation of OPERATIONS) {
    if (typeof store[operation] !== 'function') continue; // an optional one this store does not offer
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    guarded[operation] = async (...args: unknown[]) => {
      try {
        return await withTimeout(call(...args), timeoutMs, () => timedOut(store.name, operation, timeoutMs));
      } catch (cause) {
        throw new SessionStoreError(store.name, operation, cause);
      }
    };
  }
  return guarded as unknown as SessionStore;
}

// ---------------------------------------------------------------------------------------

function withTimeout<T>(pending: Promise<T>, timeoutMs: number, error: () => Error): Promise<T> {
  if (!Number.isFinite(timeoutMs)) return pending;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), timeoutMs);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}

function timedOut(store: string, operation: string, timeoutMs: number): Error {
  const error = new Error(`${store} store did not answer ${operation} within ${timeoutMs} ms (storeTimeout)`);
  error.name = 'TimeoutError';
  return Object.assign(error, { code: 'ETIMEDOUT' });
}
