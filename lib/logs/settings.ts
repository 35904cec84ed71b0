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
  /** Per-route overrides (Serverpod's per-endpoint settings), keyed as logs name routes: `'POST /checkout'`. */
  readonly routes: ReadonlyMap<string, Partial<ResolvedLogSettings>>;
}

const SETTING_KEYS = ['level', 'logAll', 'logSlow', 'slowMs', 'logFailed'] as const;
const FLAGS = ['logAll', 'logSlow', 'logFailed'] as const;

/**
 * Validates a `logs` object (or, without `sink`, a `session.setLogOptions` override or one route's
 * settings) over `fallback`; returns a frozen copy. Errors name the option as `<name>.<key>`.
 */
export function resolveLogSettings<T extends Partial<ResolvedLogSettings>>(value: unknown, fallback: T, { sink, name = 'logs' }: { sink: boolean; name?: string }): T {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new SessionConfigError(name, 'must be an object');
  }
  const input = (value ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    const known = (SETTING_KEYS as readonly string[]).includes(key) || (sink && (key === 'sink' || key === 'routes'));
    if (!known) throw new SessionConfigError(`${name}.${key}`, sink ? 'is not a sojourn logs option' : 'cannot be set here');
  }
  const resolved: Record<string, unknown> = { ...(fallback as object) };
  if (input.level !== undefined) {
    if (!LOG_LEVELS.includes(input.level as LogLevel)) throw new SessionConfigError(`${name}.level`, `must be one of ${LOG_LEVELS.join(', ')}`);
    resolved.level = input.level;
  }
  for (const flag of FLAGS) {
    if (input[flag] === undefined) continue;
    if (typeof input[flag] !== 'boolean') throw new SessionConfigError(`${name}.${flag}`, 'must be a boolean');
    resolved[flag] = input[flag];
  }
  if (input.slowMs !== undefined) {
    const ms = toMs(input.slowMs);
    if (ms === undefined) throw new SessionConfigError(`${name}.slowMs`, `must be a duration (a number of ms or a string like '2s'), got ${describe(input.slowMs)}`);
    resolved.slowMs = ms;
  }
  if (input.sink !== undefined) {
    if (typeof input.sink !== 'function') throw new SessionConfigError('logs.sink', 'must be a function (consoleSink(), pinoSink(logger), postgresLogSink(pool) or your own)');
    resolved.sink = input.sink;
  }
  if (sink) resolved.routes = resolveRoutes(input.routes);
  return Object.freeze(resolved) as T;
}

/** `logs.routes`: `{ 'POST /checkout': { logAll: true } }`, each a partial of the settings. */
function resolveRoutes(value: unknown): ReadonlyMap<string, Partial<ResolvedLogSettings>> {
  if (value === undefined) return new Map();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionConfigError('logs.routes', "must be an object like { 'POST /checkout': { logAll: true } }");
  return new Map(Object.entries(value).map(([route, settings]) => [route, resolveLogSettings(settings, {}, { sink: false, name: `logs.routes['${route}']` })]));
}
