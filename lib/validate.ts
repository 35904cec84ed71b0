import { toMs, type Duration } from './duration.js';
import { SessionConfigError } from './errors.js';

/**
 * The checks every option group shares (the manager's, `logs`, `futureCalls`): each throws a
 * `SessionConfigError` naming the option, with the offending value printed safely.
 */

/** Milliseconds of a duration option of at least `min`; the fallback when it is not given. */
export function durationOption(name: string, value: unknown, fallback: Duration, min: number): number {
  const ms = toMs(value === undefined ? fallback : value);
  if (ms === undefined || ms < min) {
    throw new SessionConfigError(name, `must be a duration of at least ${min} ms (a number of ms or a string like '30s'), got ${describe(value)}`);
  }
  return ms;
}

/** An integer option of at least `min`; the fallback when it is not given. */
export function integerOption(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    throw new SessionConfigError(name, `must be an integer of at least ${min}, got ${describe(value)}`);
  }
  return value as number;
}

/** A function option, or `undefined` when it is not given. */
export function functionOption<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new SessionConfigError(name, 'must be a function');
  return value;
}

/** An object of options whose keys are all `known` (`{}` when not given): habits from other libraries fail loudly. */
export function optionGroup(name: string, value: unknown, known: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionConfigError(name, 'must be an object');
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new SessionConfigError(`${name}.${key}`, `is not a sojourn ${name} option`);
  }
  return value as Record<string, unknown>;
}

/** A value for an error message; never throws (Object.create(null) cannot be turned into a string). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
