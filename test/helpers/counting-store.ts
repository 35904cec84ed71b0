import { memoryStore, type SessionStore } from '../../lib/index.js';

type Operation = Exclude<keyof SessionStore, 'name' | 'lock' | 'close'>;
const OPERATIONS: readonly Operation[] = [
  'get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired',
];

/** A real store (memoryStore() by default) that counts its calls and can be made to fail on demand. */
export interface CountingStore extends SessionStore {
  /** Calls per operation since creation or the last `reset()`. */
  readonly calls: Record<Operation, number>;
  /** Operations that reject (a connection refused) until removed again. */
  readonly failing: Set<Operation>;
  reset(): void;
}

export function countingStore(inner: SessionStore = memoryStore()): CountingStore {
  const calls = Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
  const failing = new Set<Operation>();
  const store: Record<string, unknown> = {
    name: inner.name,
    calls,
    failing,
    reset() {
      for (const op of OPERATIONS) calls[op] = 0;
    },
    close: inner.close?.bind(inner),
  };
  for (const op of OPERATIONS) {
    const call = (inner[op] as (...args: unknown[]) => Promise<unknown>).bind(inner);
    store[op] = async (...args: unknown[]) => {
      calls[op]++;
      if (failing.has(op)) throw Object.assign(new Error(`connect ECONNREFUSED (${op})`), { code: 'ECONNREFUSED' });
      return call(...args);
    };
  }
  return store as unknown as CountingStore;
}
