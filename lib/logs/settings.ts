import { toMs } from '../duration.js';
import { describe } from '../validate.js';
import { SessionConfigError } from '../errors.js';
import { LOG_LEVELS, type LogLevel, type LogSink } from './types.js';

/** Settings after validation: durations in milliseconds, every field present. */
export interface ResolvedLogSettings {
  readonly level: LogLevel;
  readonly logAll: boolean;
  readonly logSlow: boolean;
  readonly slowMs: number;
  readonly logFailed: boolean;
}

export interface ResolvedLogs extends ResolvedLogSettings {
  readonly sink: LogSink | undefined;
}

const SETTING_KEYS = ['level', 'logAll', 'logSlow', 'slowMs', 'logFailed'] as const;
const FLAGS = ['logAll', 'logSlow', 'logFailed'] as const;

/**
 * Validates a `logs` object (or, without `sink`, a `session.setLogOptions` override) over
 * `fallback`; returns a frozen copy. Errors name the option as `logs.<key>`.
 */
export function resolveLogSettings<T extends ResolvedLogSettings>(value: unknown, fallback: T, { sink }: { sink: boolean }): T {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new SessionConfigError('logs', 'must be an object');
  }
  const input = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    const known = (SETTING_KEYS as readonly string[]).includes(key) || (sink && key === 'sink');
    if (!known) throw new SessionConfigError(`logs.${key}`, sink ? 'is not a sojourn logs option' : 'cannot be set per session');
  }
  const resolved: Record<string, unknown> = { ...(fallback as object) };
  if (input.level !== undefined) {
    if (!LOG_LEVELS.includes(input.level as LogLevel)) throw new SessionConfigError('logs.level', `must be one of ${LOG_LEVELS.join(', ')}`);
    resolved.level = input.level;
  }
  for (const flag of FLAGS) {
    if (input[flag] === undefined) continue;
    if (typeof input[flag] !== 'boolean') throw new SessionConfigError(`logs.${flag}`, 'must be a boolean');
    resolved[flag] = input[flag];
  }
  if (input.slowMs !== undefined) {
    const ms = toMs(input.slowMs);
    if (ms === undefined) throw new SessionConfigError('logs.slowMs', `must be a duration (a number of ms or a string like '2s'), got ${describe(input.slowMs)}`);
    resolved.slowMs = ms;
  }
  if (input.sink !== undefined) {
    if (typeof input.sink !== 'function') throw new SessionConfigError('logs.sink', 'must be a function (consoleSink(), pinoSink(logger) or your own)');
    resolved.sink = input.sink;
  }
  return Object.freeze(resolved) as T;
}
