import type { Id, IdOrEntity } from './types.js';

/** The id of an order, a channel or a user, given as the id itself or as an object with one. */
export function idOf(value: IdOrEntity, what: string): Id {
  const id = typeof value === 'object' && value !== null ? value.id : value;
  if ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id))) return id;
  throw new TypeError(`sojourn: ${what} must be an id (string or number) or an object with one`);
}

/** A JSON copy, so every store hands back what Redis or PostgreSQL would. */
export function jsonCopy<T>(value: T, what: string): T {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new TypeError(`sojourn: ${what} must be JSON-serialisable`, { cause });
  }
  if (text === undefined) throw new TypeError(`sojourn: ${what} must be JSON-serialisable, got ${typeof value}`);
  return JSON.parse(text) as T;
}

/**
 * Records are shared between requests (the in-process cache hands out one object): freezing them
 * turns an accidental `session.user.name = …` into an error instead of a silent cache corruption.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Whether a maybe-synchronous answer is a promise (caches and the resolver answer synchronously when they can). */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
