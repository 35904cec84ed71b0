import { SessionDataError } from './errors.js';
import type { SessionPatch } from './stores/types.js';
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

/** The patch that sets one data key to a JSON copy of `value` (`undefined` is not JSON: a TypeError). */
export function setPatch(key: string, value: unknown): Pick<SessionPatch, 'set'> {
  return { set: { [dataKey(key)]: jsonCopy(value, `session.set('${key}')`) } };
}

export function unsetPatch(key: string): Pick<SessionPatch, 'unset'> {
  return { unset: [dataKey(key)] };
}

/**
 * Keys that name a prototype (`__proto__`, `constructor`, `prototype`) are refused for every store
 * alike: a JS object would treat them differently from a Redis hash or a jsonb column.
 */
export function dataKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('sojourn: session data keys must be non-empty strings');
  if (FORBIDDEN_KEYS.has(key)) throw new SessionDataError(`session data key '${key}' is not allowed`, 'ERR_SESSION_DATA_KEY');
  return key;
}

/** Serialized bytes of a data bag once `patch` is applied to `data`. */
export function patchedDataBytes(data: Readonly<Record<string, unknown>>, patch: Pick<SessionPatch, 'set' | 'unset'>): number {
  const next: Record<string, unknown> = { ...data, ...patch.set };
  for (const key of patch.unset ?? []) delete next[key];
  return Buffer.byteLength(JSON.stringify(next));
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

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
