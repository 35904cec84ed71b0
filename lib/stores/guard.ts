import { SessionStoreError } from '../errors.js';
import type { SessionStore } from './types.js';

const OPERATIONS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired'] as const;

/** The same store, every failure wrapped in a `SessionStoreError` naming the store and the operation. */
export function guardStore(store: SessionStore): SessionStore {
  const guarded: Record<string, unknown> = { name: store.name, close: store.close?.bind(store) };
  for (const operation of OPERATIONS) {
    const call = (store[operation] as (...args: unknown[]) => Promise<unknown>).bind(store);
    guarded[operation] = async (...args: unknown[]) => {
      try {
        return await call(...args);
      } catch (cause) {
        throw new SessionStoreError(store.name, operation, cause);
      }
    };
  }
  return guarded as unknown as SessionStore;
}
