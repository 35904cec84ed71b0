import type { SessionCache } from './caches/types.js';
import { resolveDeviceOptions, type DeviceOptions, type ResolvedDevice } from './device.js';
import type { Duration } from './duration.js';
import { isProduction } from './environment.js';
import { SessionConfigError } from './errors.js';
import type { SessionFleet } from './fleets/types.js';
import { resolveLogSettings, type ResolvedLogs } from './logs/settings.js';
import type { LogOptions } from './logs/types.js';
import type { SessionStore } from './stores/types.js';
import { resolveFutureCallOptions, type FutureCallOptions, type ResolvedFutureCallOptions } from './tasks/options.js';
import { headerName, resolveCookie, resolveSecrets, resolveTokenMethods, type CookieOptions, type ResolvedCookie, type TokenMethod } from './token/options.js';
import type { Id, SessionUser } from './types.js';
import { durationOption, functionOption, integerOption, optionGroup } from './validate.js';

export type { CookieOptions, ResolvedCookie, TokenMethod };

/** Decides which order a user ends up with after login. Returns the order id to keep, or nothing. */
export type MergeActiveOrder = (input: { guestOrderId: Id | undefined; user: SessionUser }) => Id | undefined | Promise<Id | undefined>;

/**
 * Decides which data bag a user's new session starts with after login. Returns the bag to keep,
 * or nothing for an empty one (refuse what a guest session planted in the browser carried).
 */
export type MergeGuestData = (input: {
  guestData: Readonly<Record<string, unknown>>;
  user: SessionUser;
}) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

export interface SessionOptions {
  /** Where sessions persist. @default memoryStore() */
  store?: SessionStore;
  /** Caches in front of the store, first hit wins; `false` for none. @default lruCache() */
  cache?: SessionCache | readonly SessionCache[] | false;
  /**
   * What the instances of one application share besides the store: revocations and changes that
   * keep every in-process cache coherent, messages, the cleanup lock. Required when an in-process
   * cache sits in front of a shared store or cache. @default memoryFleet() (this process only)
   */
  fleet?: SessionFleet;
  /** How long a revoke (or a user update) waits for every instance to confirm it. @default 500 */
  fleetTimeout?: Duration;
  /** Tags every token and cookie; the first tags, all verify (rotation). Required in production (32 bytes or more). */
  secret?: string | readonly string[];
  /** Where tokens travel; an array gives precedence. @default ['cookie', 'bearer'] */
  tokenMethod?: TokenMethod | readonly TokenMethod[];
  /** Request header read for bearer tokens (`Bearer ` prefix optional). @default 'authorization' */
  bearerHeader?: string;
  /** Response header that carries a new token to bearer clients; sent empty by a client, it asks for one. @default 'session-token' */
  tokenHeader?: string;
  cookie?: CookieOptions;
  /** Idle lifetime, sliding: renewed when less than half is left. @default '30d' */
  duration?: Duration;
  /** Idle lifetime of a login without "remember me" (`authenticate(…, { rememberMe: false })`). @default '1d' */
  shortDuration?: Duration;
  /** Idle lifetime of an anonymous session with no active order (one with an order lives `duration`). @default '7d' */
  anonymousDuration?: Duration;
  /** How long a token replaced by a login or a rotation is neither honoured nor cleared (the login race). @default '10s' */
  supersededGrace?: Duration;
  /** Cap on any renewal, counted from creation. @default '365d' */
  absoluteDuration?: Duration;
  /** How long a cache entry is trusted before the store is asked again. @default '5m' */
  cacheTtl?: Duration;
  /** A cache call slower than this counts as a miss. @default 50 */
  cacheTimeout?: Duration;
  /** A store call slower than this fails with `SessionStoreError`. @default '5s' */
  storeTimeout?: Duration;
  /** Serialized bytes of data (and of the user snapshot) one session may hold; a write over it fails with `SessionDataError`. @default 65536 */
  maxDataBytes?: number;
  /** How often `start()` runs the expired-session cleanup; `false` turns it off. @default '1h' */
  cleanupInterval?: Duration | false;
  /** Records deleted per batch by the cleanup job. @default 1000 */
  cleanupBatchSize?: number;
  /** Picks the order kept at login. @default keeps the guest's order */
  mergeActiveOrder?: MergeActiveOrder;
  /** Picks the data bag kept at login. @default keeps the guest's data */
  mergeGuestData?: MergeGuestData;
  /** Session logs: `{ sink, level, logAll, logSlow, slowMs, logFailed }`. @default none (no sink: nothing logged) */
  logs?: LogOptions;
  /** Future calls: `{ queue, concurrency, pollInterval, lease, retries }`. @default memoryQueue(), 1, '1s', '30s', 0 */
  futureCalls?: FutureCallOptions;
  /** What device lists keep: `{ ip, userAgent, lastSeenEvery }`. @default { ip: true, userAgent: true, lastSeenEvery: '1h' } */
  device?: DeviceOptions;
  /** Session messages: `{ buffer }` (messages a slow `stream()` consumer may fall behind). @default { buffer: 100 } */
  messages?: { buffer?: number };
  /** Epoch milliseconds; inject for tests. @default Date.now */
  clock?: () => number;
}

export interface ResolvedOptions {
  readonly store: SessionStore | undefined;
  readonly caches: readonly SessionCache[] | undefined;
  readonly fleet: SessionFleet | undefined;
  readonly fleetTimeout: number;
  readonly secrets: readonly string[];
  readonly tokenMethods: readonly TokenMethod[];
  readonly bearerHeader: string;
  readonly tokenHeader: string;
  readonly cookie: ResolvedCookie;
  readonly duration: number;
  readonly shortDuration: number;
  readonly anonymousDuration: number;
  readonly supersededGrace: number;
  readonly absoluteDuration: number;
  readonly cacheTtl: number;
  readonly cacheTimeout: number;
  readonly storeTimeout: number;
  readonly maxDataBytes: number;
  readonly cleanupInterval: number | false;
  readonly cleanupBatchSize: number;
  readonly mergeActiveOrder: MergeActiveOrder;
  readonly mergeGuestData: MergeGuestData;
  readonly logs: ResolvedLogs;
  readonly futureCalls: ResolvedFutureCallOptions;
  readonly device: ResolvedDevice;
  readonly messageBuffer: number;
  readonly clock: () => number;
}

export const DEFAULTS = Object.freeze({
  tokenMethod: Object.freeze(['cookie', 'bearer'] as const),
  bearerHeader: 'authorization',
  tokenHeader: 'session-token',
  cookieName: 'session',
  duration: '30d',
  shortDuration: '1d',
  anonymousDuration: '7d',
  supersededGrace: '10s',
  absoluteDuration: '365d',
  cacheTtl: '5m',
  cacheTimeout: 50,
  storeTimeout: '5s',
  fleetTimeout: 500,
  maxDataBytes: 65_536,
  cleanupInterval: '1h',
  cleanupBatchSize: 1000,
  messageBuffer: 100,
  logLevel: 'info',
  slowMs: 1000,
  logSlow: true,
  logFailed: true,
} as const);

/** Validates once and returns a frozen copy; the caller's object is never touched. */
export function resolveOptions(options: SessionOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new SessionConfigError(key, 'is not a sojourn option');
  }
  const duration = durationOption('duration', options.duration, DEFAULTS.duration, 1);
  const absoluteDuration = durationOption('absoluteDuration', options.absoluteDuration, DEFAULTS.absoluteDuration, 1);
  if (absoluteDuration < duration) throw new SessionConfigError('absoluteDuration', 'must not be shorter than `duration`');
  const messages = optionGroup('messages', options.messages, new Set(['buffer']));
  return Object.freeze({
    store: contract('store', options.store, STORE_METHODS),
    caches: resolveCaches(options.cache),
    fleet: contract('fleet', options.fleet, FLEET_METHODS),
    fleetTimeout: durationOption('fleetTimeout', options.fleetTimeout, DEFAULTS.fleetTimeout, 1),
    secrets: resolveSecrets(options.secret),
    tokenMethods: resolveTokenMethods(options.tokenMethod),
    bearerHeader: headerName('bearerHeader', options.bearerHeader, DEFAULTS.bearerHeader),
    tokenHeader: headerName('tokenHeader', options.tokenHeader, DEFAULTS.tokenHeader),
    cookie: resolveCookie(options.cookie),
    duration,
    shortDuration: durationOption('shortDuration', options.shortDuration, DEFAULTS.shortDuration, 1),
    anonymousDuration: durationOption('anonymousDuration', options.anonymousDuration, DEFAULTS.anonymousDuration, 1),
    supersededGrace: durationOption('supersededGrace', options.supersededGrace, DEFAULTS.supersededGrace, 0),
    absoluteDuration,
    cacheTtl: durationOption('cacheTtl', options.cacheTtl, DEFAULTS.cacheTtl, 1),
    cacheTimeout: durationOption('cacheTimeout', options.cacheTimeout, DEFAULTS.cacheTimeout, 1),
    storeTimeout: durationOption('storeTimeout', options.storeTimeout, DEFAULTS.storeTimeout, 1),
    maxDataBytes: integerOption('maxDataBytes', options.maxDataBytes, DEFAULTS.maxDataBytes, 1),
    cleanupInterval:
      options.cleanupInterval === false ? false : durationOption('cleanupInterval', options.cleanupInterval, DEFAULTS.cleanupInterval, 1_000),
    cleanupBatchSize: integerOption('cleanupBatchSize', options.cleanupBatchSize, DEFAULTS.cleanupBatchSize, 1),
    mergeActiveOrder: functionOption('mergeActiveOrder', options.mergeActiveOrder) ?? keepGuestOrder,
    mergeGuestData: functionOption('mergeGuestData', options.mergeGuestData) ?? keepGuestData,
    logs: resolveLogs(options.logs),
    futureCalls: resolveFutureCallOptions(options.futureCalls),
    device: resolveDeviceOptions(options.device),
    messageBuffer: integerOption('messages.buffer', messages.buffer, DEFAULTS.messageBuffer, 1),
    clock: functionOption('clock', options.clock) ?? Date.now,
  });
}

// ---------------------------------------------------------------------------------------

const KNOWN = new Set<string>([
  'store', 'cache', 'fleet', 'fleetTimeout', 'secret', 'tokenMethod', 'bearerHeader', 'tokenHeader', 'cookie', 'duration',
  'shortDuration', 'anonymousDuration', 'supersededGrace', 'absoluteDuration', 'cacheTtl', 'cacheTimeout', 'storeTimeout', 'maxDataBytes', 'cleanupInterval', 'cleanupBatchSize',
  'mergeActiveOrder', 'mergeGuestData', 'logs', 'clock', 'futureCalls', 'messages', 'device',
]);
const keepGuestOrder: MergeActiveOrder = ({ guestOrderId }) => guestOrderId;
const keepGuestData: MergeGuestData = ({ guestData }) => guestData;
const STORE_METHODS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired'];
const CACHE_METHODS = ['get', 'set', 'delete', 'clear'];
const FLEET_METHODS = ['start', 'publish', 'subscribe', 'lock', 'close'];

function resolveCaches(cache: unknown): readonly SessionCache[] | undefined {
  if (cache === undefined) return undefined;
  if (cache === false) return Object.freeze([]);
  const chain = Array.isArray(cache) ? cache : [cache];
  if (!chain.every((layer) => hasMethods(layer, CACHE_METHODS))) {
    throw new SessionConfigError('cache', `must be false, a SessionCache (${CACHE_METHODS.join(', ')}) or an array of them`);
  }
  return Object.freeze([...chain] as SessionCache[]);
}

/** An extension given as an option: an object with the contract's methods. */
function contract<T>(name: string, value: T | undefined, methods: string[]): T | undefined {
  if (value === undefined) return undefined;
  if (!hasMethods(value, methods)) throw new SessionConfigError(name, `must implement the ${name} contract (${methods.join(', ')})`);
  return value;
}

/** `logAll` follows the environment (Serverpod: development only); the rest are fixed defaults. */
function resolveLogs(value: unknown): ResolvedLogs {
  const fallback: ResolvedLogs = {
    sink: undefined,
    routes: new Map(),
    level: DEFAULTS.logLevel,
    logAll: !isProduction(),
    logSlow: DEFAULTS.logSlow,
    slowMs: DEFAULTS.slowMs,
    logFailed: DEFAULTS.logFailed,
  };
  return resolveLogSettings(value, fallback, { sink: true });
}

function hasMethods(value: unknown, methods: string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}
