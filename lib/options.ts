import { randomBytes } from 'node:crypto';
import type { SessionCache } from './caches/types.js';
import type { Duration } from './duration.js';
import { SessionConfigError } from './errors.js';
import { resolveLogSettings, type ResolvedLogs } from './logs/settings.js';
import type { LogOptions } from './logs/types.js';
import { resolveMessageOptions, type MessageOptions, type ResolvedMessageOptions } from './messages/options.js';
import type { SessionStore } from './stores/types.js';
import { resolveFutureCallOptions, type FutureCallOptions, type ResolvedFutureCallOptions } from './tasks/options.js';
import type { Id, SessionUser } from './types.js';
import { describe, durationOption, functionOption, integerOption, optionGroup } from './validate.js';

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
  /** A store call slower than this fails with `SessionStoreError` (a hung store cannot hold requests forever). @default '5s' */
  storeTimeout?: Duration;
  /** How often `start()` runs the expired-session cleanup; `false` turns it off. @default '1h' */
  cleanupInterval?: Duration | false;
  /** Records deleted per batch by the cleanup job. @default 1000 */
  cleanupBatchSize?: number;
  /** Picks the order kept at login. @default keeps the guest's order */
  mergeActiveOrder?: MergeActiveOrder;
  /** Session logs: `{ sink, level, logAll, logSlow, slowMs, logFailed }`. @default none (no sink: nothing logged) */
  logs?: LogOptions;
  /** Future calls: `{ queue, concurrency, pollInterval, lease, retries }`. @default memoryQueue(), 1, '1s', '30s', 0 */
  futureCalls?: FutureCallOptions;
  /** Session messages: `{ bus, buffer }`. @default memoryBus(), 100 */
  messages?: MessageOptions;
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
  readonly storeTimeout: number;
  readonly cleanupInterval: number | false;
  readonly cleanupBatchSize: number;
  readonly mergeActiveOrder: MergeActiveOrder;
  readonly logs: ResolvedLogs;
  readonly futureCalls: ResolvedFutureCallOptions;
  readonly messages: ResolvedMessageOptions;
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
  storeTimeout: '5s',
  cleanupInterval: '1h',
  cleanupBatchSize: 1000,
  logLevel: 'info',
  slowMs: 1000,
  logSlow: true,
  logFailed: true,
} as const);

const keepGuestOrder: MergeActiveOrder = ({ guestOrderId }) => guestOrderId;
const KNOWN = new Set<string>([
  'store', 'cache', 'secret', 'tokenMethod', 'bearerHeader', 'tokenHeader', 'cookie', 'duration',
  'absoluteDuration', 'cacheTtl', 'cacheTimeout', 'storeTimeout', 'cleanupInterval', 'cleanupBatchSize',
  'mergeActiveOrder', 'logs', 'clock', 'futureCalls', 'messages',
]);

/** Validates once and returns a frozen copy; the caller's object is never touched. */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new SessionConfigError(key, 'is not a sojourn option');
  }
  const tokenMethods = resolveTokenMethods(options.tokenMethod);
  const duration = durationOption('duration', options.duration, DEFAULTS.duration, 1);
  const absoluteDuration = durationOption('absoluteDuration', options.absoluteDuration, DEFAULTS.absoluteDuration, 1);
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
    cacheTtl: durationOption('cacheTtl', options.cacheTtl, DEFAULTS.cacheTtl, 1),
    cacheTimeout: durationOption('cacheTimeout', options.cacheTimeout, DEFAULTS.cacheTimeout, 1),
    storeTimeout: durationOption('storeTimeout', options.storeTimeout, DEFAULTS.storeTimeout, 1),
    cleanupInterval:
      options.cleanupInterval === false
        ? false
        : durationOption('cleanupInterval', options.cleanupInterval, DEFAULTS.cleanupInterval, 1_000),
    cleanupBatchSize: integerOption('cleanupBatchSize', options.cleanupBatchSize, DEFAULTS.cleanupBatchSize, 1),
    mergeActiveOrder: functionOption('mergeActiveOrder', options.mergeActiveOrder) ?? keepGuestOrder,
    logs: resolveLogs(options.logs),
    futureCalls: resolveFutureCallOptions(options.futureCalls),
    messages: resolveMessageOptions(options.messages),
    clock: functionOption('clock', options.clock) ?? Date.now,
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
  // express-session habits (`cookie.maxAge`) fail loudly instead of being silently ignored.
  const c = optionGroup('cookie', value, COOKIE_KEYS) as CookieOptions;
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
  const sameSite = c.sameSite === undefined ? 'lax' : c.sameSite;
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

/** `logAll` follows the environment (Serverpod: development only); the rest are fixed defaults. */
function resolveLogs(value: unknown): ResolvedOptions['logs'] {
  const fallback: ResolvedLogs = {
    sink: undefined,
    level: DEFAULTS.logLevel,
    logAll: process.env.NODE_ENV !== 'production',
    logSlow: DEFAULTS.logSlow,
    slowMs: DEFAULTS.slowMs,
    logFailed: DEFAULTS.logFailed,
  };
  return resolveLogSettings(value, fallback, { sink: true });
}

function headerName(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)) {
    throw new SessionConfigError(name, `must be a valid HTTP header name, got ${describe(value)}`);
  }
  return value.toLowerCase();
}

const COOKIE_KEYS = new Set(['name', 'path', 'domain', 'sameSite', 'secure', 'httpOnly', 'partitioned']);

function hasMethods(value: unknown, methods: string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}
