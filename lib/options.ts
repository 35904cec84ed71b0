import { randomBytes } from 'node:crypto';
import type { SessionCache } from './caches/types.js';
import { toMs, type Duration } from './duration.js';
import { SessionConfigError } from './errors.js';
import type { LogOptions, LogSink, LogLevel } from './logs/types.js';
import { LOG_LEVELS } from './logs/types.js';
import type { SessionStore } from './stores/types.js';
import type { Id, SessionUser } from './types.js';

export type TokenMethod = 'cookie' | 'bearer';

export interface CookieOptions {
  /** @default 'session' */
  name?: string;
  /** @default '/' */
  path?: string;
  /** @default undefined (host-only) */
  domain?: string;
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none';
  /** @default true when NODE_ENV is 'production' */
  secure?: boolean;
  /** @default true */
  httpOnly?: boolean;
  /** CHIPS partitioned cookie. @default false */
  partitioned?: boolean;
}

/** Decides which order a user ends up with after login. Returns the order id to keep, or nothing. */
export type MergeActiveOrder = (input: {
  guestOrderId: Id | undefined;
  user: SessionUser;
}) => Id | undefined | Promise<Id | undefined>;

export interface SessionOptions {
  /** Where sessions persist. @default memoryStore() */
  store?: SessionStore;
  /** Caches in front of the store, first hit wins; `false` for none. @default lruCache() */
  cache?: SessionCache | readonly SessionCache[] | false;
  /** Signs cookies; the first signs, all verify (rotation). Required in production with cookies. */
  secret?: string | readonly string[];
  /** Where tokens travel; an array gives precedence. @default ['cookie', 'bearer'] */
  tokenMethod?: TokenMethod | readonly TokenMethod[];
  /** Request header read for bearer tokens (`Bearer ` prefix optional). @default 'authorization' */
  bearerHeader?: string;
  /** Response header that carries a new token to bearer clients; empty means "forget it". @default 'session-token' */
  tokenHeader?: string;
  cookie?: CookieOptions;
  /** Idle lifetime, sliding: renewed when less than half is left. @default '30d' */
  duration?: Duration;
  /** Cap on any renewal, counted from creation. @default '365d' */
  absoluteDuration?: Duration;
  /** How long a cache entry is trusted before the store is asked again. @default '5m' */
  cacheTtl?: Duration;
  /** A cache call slower than this counts as a miss. @default 50 */
  cacheTimeout?: Duration;
  /** How often `start()` runs the expired-session cleanup; `false` turns it off. @default '1h' */
  cleanupInterval?: Duration | false;
  /** Records deleted per batch by the cleanup job. @default 1000 */
  cleanupBatchSize?: number;
  /** Picks the order kept at login. @default keeps the guest's order */
  mergeActiveOrder?: MergeActiveOrder;
  /** Session logs, written when a session closes. @default none */
  logs?: LogOptions;
  /** Epoch milliseconds; inject for tests. @default Date.now */
  clock?: () => number;
}

export interface ResolvedCookie extends Required<Omit<CookieOptions, 'domain'>> {
  domain: string | undefined;
}

export interface ResolvedOptions {
  readonly store: SessionStore | undefined;
  readonly caches: readonly SessionCache[] | undefined;
  readonly secrets: readonly string[];
  readonly tokenMethods: readonly TokenMethod[];
  readonly bearerHeader: string;
  readonly tokenHeader: string;
  readonly cookie: Readonly<ResolvedCookie>;
  readonly duration: number;
  readonly absoluteDuration: number;
  readonly cacheTtl: number;
  readonly cacheTimeout: number;
  readonly cleanupInterval: number | false;
  readonly cleanupBatchSize: number;
  readonly mergeActiveOrder: MergeActiveOrder;
  readonly logs: {
    readonly sink: LogSink | undefined;
    readonly level: LogLevel;
    readonly slowMs: number;
    readonly logAll: boolean;
  };
  readonly clock: () => number;
}

export const DEFAULTS = Object.freeze({
  tokenMethod: Object.freeze(['cookie', 'bearer'] as const),
  bearerHeader: 'authorization',
  tokenHeader: 'session-token',
  cookieName: 'session',
  duration: '30d',
  absoluteDuration: '365d',
  cacheTtl: '5m',
  cacheTimeout: 50,
  cleanupInterval: '1h',
  cleanupBatchSize: 1000,
  logLevel: 'info',
  slowMs: 1000,
} as const);

const keepGuestOrder: MergeActiveOrder = ({ guestOrderId }) => guestOrderId;
const KNOWN = new Set<string>([
  'store', 'cache', 'secret', 'tokenMethod', 'bearerHeader', 'tokenHeader', 'cookie', 'duration',
  'absoluteDuration', 'cacheTtl', 'cacheTimeout', 'cleanupInterval', 'cleanupBatchSize',
  'mergeActiveOrder', 'logs', 'clock',
]);

/** Validates once and returns a frozen copy; the caller's object is never touched. */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new SessionConfigError(key, 'is not a sojourn option');
  }
  const tokenMethods = resolveTokenMethods(options.tokenMethod);
  const duration = durationMs('duration', options.duration, DEFAULTS.duration, 1);
  const absoluteDuration = durationMs('absoluteDuration', options.absoluteDuration, DEFAULTS.absoluteDuration, 1);
  if (absoluteDuration < duration) {
    throw new SessionConfigError('absoluteDuration', 'must not be shorter than `duration`');
  }
  return Object.freeze({
    store: resolveStore(options.store),
    caches: resolveCaches(options.cache),
    secrets: resolveSecrets(options.secret, tokenMethods),
    tokenMethods,
    bearerHeader: headerName('bearerHeader', options.bearerHeader, DEFAULTS.bearerHeader),
    tokenHeader: headerName('tokenHeader', options.tokenHeader, DEFAULTS.tokenHeader),
    cookie: resolveCookie(options.cookie),
    duration,
    absoluteDuration,
    cacheTtl: durationMs('cacheTtl', options.cacheTtl, DEFAULTS.cacheTtl, 1),
    cacheTimeout: durationMs('cacheTimeout', options.cacheTimeout, DEFAULTS.cacheTimeout, 1),
    cleanupInterval:
      options.cleanupInterval === false
        ? false
        : durationMs('cleanupInterval', options.cleanupInterval, DEFAULTS.cleanupInterval, 1_000),
    cleanupBatchSize: positiveInteger('cleanupBatchSize', options.cleanupBatchSize, DEFAULTS.cleanupBatchSize),
    mergeActiveOrder: fn('mergeActiveOrder', options.mergeActiveOrder) ?? keepGuestOrder,
    logs: resolveLogs(options.logs),
    clock: fn('clock', options.clock) ?? Date.now,
  });
}

// ---------------------------------------------------------------------------------------

function resolveTokenMethods(value: SessionOptions['tokenMethod']): readonly TokenMethod[] {
  if (value === undefined) return DEFAULTS.tokenMethod;
  const methods = typeof value === 'string' ? [value] : value;
  const valid =
    Array.isArray(methods) &&
    methods.length > 0 &&
    new Set(methods).size === methods.length &&
    methods.every((m) => m === 'cookie' || m === 'bearer');
  if (!valid) throw new SessionConfigError('tokenMethod', "must be 'cookie', 'bearer' or an array of them");
  return Object.freeze([...methods]);
}

function resolveStore(store: unknown): SessionStore | undefined {
  if (store === undefined) return undefined;
  const methods = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired'];
  if (!hasMethods(store, methods)) {
    throw new SessionConfigError('store', `must implement the SessionStore contract (${methods.join(', ')})`);
  }
  return store as SessionStore;
}

function resolveCaches(cache: unknown): readonly SessionCache[] | undefined {
  if (cache === undefined) return undefined;
  if (cache === false) return Object.freeze([]);
  const chain = Array.isArray(cache) ? cache : [cache];
  const methods = ['get', 'set', 'setMissing', 'delete', 'clear'];
  if (!chain.every((layer) => hasMethods(layer, methods))) {
    throw new SessionConfigError('cache', `must be false, a SessionCache (${methods.join(', ')}) or an array of them`);
  }
  return Object.freeze([...chain] as SessionCache[]);
}

let warnedAboutSecret = false;

function resolveSecrets(value: unknown, methods: readonly TokenMethod[]): readonly string[] {
  if (value === undefined) {
    if (!methods.includes('cookie')) return Object.freeze([]);
    if (process.env.NODE_ENV === 'production') {
      throw new SessionConfigError('secret', 'is required to sign cookies when NODE_ENV is production');
    }
    if (!warnedAboutSecret) {
      warnedAboutSecret = true;
      process.emitWarning(
        'No `secret` given: cookies are signed with a random secret, so they stop working on restart.',
        { code: 'SOJOURN_NO_SECRET' },
      );
    }
    return Object.freeze([randomBytes(32).toString('base64url')]);
  }
  const secrets = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new SessionConfigError('secret', 'must be a non-empty string or a non-empty array of them');
  }
  return Object.freeze([...secrets] as string[]);
}

function resolveCookie(value: unknown): Readonly<ResolvedCookie> {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new SessionConfigError('cookie', 'must be an object');
  }
  const c = (value ?? {}) as CookieOptions;
  rejectUnknown('cookie', c, COOKIE_KEYS);
  const text = (name: string, v: unknown, fallback: string | undefined) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v.length === 0) throw new SessionConfigError(`cookie.${name}`, 'must be a non-empty string');
    return v;
  };
  const flag = (name: string, v: unknown, fallback: boolean) => {
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') throw new SessionConfigError(`cookie.${name}`, 'must be a boolean');
    return v;
  };
  const name = text('name', c.name, DEFAULTS.cookieName)!;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new SessionConfigError('cookie.name', 'is not a valid cookie name');
  const sameSite = c.sameSite ?? 'lax';
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new SessionConfigError('cookie.sameSite', "must be 'lax', 'strict' or 'none'");
  }
  const secure = flag('secure', c.secure, process.env.NODE_ENV === 'production');
  if (sameSite === 'none' && !secure) throw new SessionConfigError('cookie.sameSite', "'none' needs `cookie.secure: true`");
  return Object.freeze({
    name,
    path: text('path', c.path, '/')!,
    domain: text('domain', c.domain, undefined),
    sameSite,
    secure,
    httpOnly: flag('httpOnly', c.httpOnly, true),
    partitioned: flag('partitioned', c.partitioned, false),
  });
}

function resolveLogs(value: unknown): ResolvedOptions['logs'] {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new SessionConfigError('logs', 'must be an object');
  }
  const logs = (value ?? {}) as LogOptions;
  rejectUnknown('logs', logs, LOG_KEYS);
  const level = logs.level ?? DEFAULTS.logLevel;
  if (!LOG_LEVELS.includes(level as LogLevel)) throw new SessionConfigError('logs.level', `must be one of ${LOG_LEVELS.join(', ')}`);
  if (logs.logAll !== undefined && typeof logs.logAll !== 'boolean') throw new SessionConfigError('logs.logAll', 'must be a boolean');
  return Object.freeze({
    sink: fn('logs.sink', logs.sink),
    level,
    slowMs: durationMs('logs.slowMs', logs.slowMs, DEFAULTS.slowMs, 0),
    logAll: logs.logAll ?? false,
  });
}

function durationMs(name: string, value: unknown, fallback: Duration, min: number): number {
  const ms = toMs(value === undefined ? fallback : value);
  if (ms === undefined || ms < min) {
    throw new SessionConfigError(name, `must be a duration of at least ${min} ms (a number of ms or a string like '30d'), got ${describe(value)}`);
  }
  return ms;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new SessionConfigError(name, `must be a positive integer, got ${describe(value)}`);
  return value as number;
}

function headerName(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)) {
    throw new SessionConfigError(name, `must be a valid HTTP header name, got ${describe(value)}`);
  }
  return value.toLowerCase();
}

function fn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new SessionConfigError(name, 'must be a function');
  return value;
}

const COOKIE_KEYS = new Set(['name', 'path', 'domain', 'sameSite', 'secure', 'httpOnly', 'partitioned']);
const LOG_KEYS = new Set(['sink', 'level', 'slowMs', 'logAll']);

/** express-session habits (`cookie.maxAge`) must fail loudly, not be silently ignored. */
function rejectUnknown(group: string, value: object, known: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw new SessionConfigError(`${group}.${key}`, `is not a sojourn ${group} option`);
  }
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}
