import { afterEach, describe, expect, it, vi } from 'vitest';
import { lruCache } from '../lib/caches/lru.js';
import { SessionConfigError } from '../lib/errors.js';
import { DEFAULTS, resolveOptions, type SessionOptions } from '../lib/options.js';
import { memoryStore } from '../lib/stores/memory.js';
import { warningsDuring } from './helpers/warnings.js';

const SECRET = 'test-secret';
const LONG_SECRET = 'a production secret of at least 32 bytes';

afterEach(() => {
  vi.unstubAllEnvs();
});

const sojournWarnings = warningsDuring;

function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFrozen((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

describe('resolveOptions: defaults', () => {
  it('fills in every documented default, durations in milliseconds', () => {
    const resolved = resolveOptions({ secret: SECRET });
    expect(resolved).toMatchObject({
      store: undefined,
      caches: undefined,
      fleet: undefined,
      fleetTimeout: 500,
      shortDuration: 86_400_000,
      anonymousDuration: 7 * 86_400_000,
      supersededGrace: 10_000,
      maxDataBytes: 65_536,
      messageBuffer: 100,
      secrets: [SECRET],
      tokenMethods: ['cookie', 'bearer'],
      bearerHeader: 'authorization',
      tokenHeader: 'session-token',
      cookie: {
        name: 'session',
        path: '/',
        domain: undefined,
        sameSite: 'lax',
        secure: 'auto', // production, or a secure request (trust proxy / app.proxy)
        httpOnly: true,
        partitioned: false,
      },
      duration: 30 * 86_400_000,
      absoluteDuration: 365 * 86_400_000,
      cacheTtl: 5 * 60_000,
      cacheTimeout: 50,
      storeTimeout: 5_000,
      cleanupInterval: 3_600_000,
      cleanupBatchSize: 1000,
      // logAll: on outside production (vitest runs with NODE_ENV=test); see the environment tests
      logs: { sink: undefined, level: 'info', logAll: true, logSlow: true, slowMs: 1000, logFailed: true },
      clock: Date.now,
    });
    expect(resolved.mergeActiveOrder({ guestOrderId: 'o-1', user: { id: 1 } })).toBe('o-1');
    expect(resolved.mergeGuestData({ guestData: { cart: 1 }, user: { id: 1 } })).toEqual({ cart: 1 });
  });

  it('resolves no options at all, and undefined values, to the defaults', () => {
    const bare = resolveOptions({ secret: SECRET, duration: undefined, cookie: undefined, logs: undefined });
    expect(bare.duration).toBe(30 * 86_400_000);
    expect(bare.cookie.name).toBe('session');
    expect(resolveOptions({ secret: SECRET, tokenMethod: 'bearer' }).duration).toBe(30 * 86_400_000);
  });

  it('keeps falsy values that are not undefined (no `||` defaults)', () => {
    const resolved = resolveOptions({
      secret: SECRET,
      cleanupInterval: false,
      cache: false,
      cookie: { httpOnly: false },
      logs: { slowMs: 0, logAll: false, logSlow: false, logFailed: false },
    });
    expect(resolved.cleanupInterval).toBe(false);
    expect(resolved.caches).toEqual([]);
    expect(resolved.cookie.httpOnly).toBe(false);
    expect(resolved.logs.slowMs).toBe(0);
    expect(resolved.logs).toMatchObject({ logAll: false, logSlow: false, logFailed: false });
  });

  it('exposes frozen DEFAULTS', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.tokenMethod)).toBe(true);
  });
});

describe('resolveOptions: values', () => {
  it.each([
    ['30d', 2_592_000_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['500ms', 500],
    [90_000, 90_000],
  ] as const)('reads duration %j as %d ms', (duration, ms) => {
    expect(resolveOptions({ secret: SECRET, duration, absoluteDuration: '400d' }).duration).toBe(ms);
  });

  it('reads every duration option the same way', () => {
    const resolved = resolveOptions({
      secret: SECRET,
      absoluteDuration: '1y',
      cacheTtl: '1.5h',
      cacheTimeout: '500ms',
      cleanupInterval: '5m',
      logs: { slowMs: '2s' },
    });
    expect(resolved.absoluteDuration).toBe(31_557_600_000);
    expect(resolved.cacheTtl).toBe(5_400_000);
    expect(resolved.cacheTimeout).toBe(500);
    expect(resolved.cleanupInterval).toBe(300_000);
    expect(resolved.logs.slowMs).toBe(2_000);
  });

  it('takes a single token method or cache as a list of one, and lowercases header names', () => {
    const cache = lruCache();
    const store = memoryStore();
    const resolved = resolveOptions({ secret: SECRET, tokenMethod: 'bearer', cache, store, bearerHeader: 'X-Session-Token', tokenHeader: 'X-New-Token' });
    expect(resolved.tokenMethods).toEqual(['bearer']);
    expect(resolved.caches).toEqual([cache]);
    expect(resolved.store).toBe(store);
    expect(resolved.bearerHeader).toBe('x-session-token');
    expect(resolved.tokenHeader).toBe('x-new-token');
  });

  it('takes several secrets, the first one first', () => {
    expect(resolveOptions({ secret: ['new', 'old'] }).secrets).toEqual(['new', 'old']);
  });
});

describe('resolveOptions: validation', () => {
  const cache = lruCache();
  // One row per option (and per way to get it wrong that matters): [option named, input].
  const rows: [string, SessionOptions][] = [
    ['store', { store: {} as never }],
    ['store', { store: 'memory' as never }],
    ['cache', { cache: true as never }],
    ['cache', { cache: [cache, {}] as never }],
    ['fleet', { fleet: {} as never }],
    ['fleetTimeout', { fleetTimeout: 0 }],
    ['maxDataBytes', { maxDataBytes: 0 }],
    ['maxDataBytes', { maxDataBytes: '64kb' as never }],
    ['messages', { messages: 'x' as never }],
    ['messages.buffer', { messages: { buffer: 0 } }],
    ['messages.bus', { messages: { bus: {} } as never }],
    ['secret', { secret: '' }],
    ['secret', { secret: [] }],
    ['secret', { secret: ['ok', 3] as never }],
    ['secret', { secret: 42 as never }],
    ['tokenMethod', { tokenMethod: 'header' as never }],
    ['tokenMethod', { tokenMethod: [] }],
    ['tokenMethod', { tokenMethod: ['cookie', 'cookie'] }],
    ['bearerHeader', { bearerHeader: 'bad header' }],
    ['bearerHeader', { bearerHeader: '' }],
    ['tokenHeader', { tokenHeader: 'a:b' }],
    ['tokenHeader', { tokenHeader: 5 as never }],
    ['cookie', { cookie: 'session' as never }],
    ['cookie', { cookie: null as never }],
    ['cookie.name', { cookie: { name: '' } }],
    ['cookie.name', { cookie: { name: 'my session' } }],
    ['cookie.name', { cookie: { name: 5 as never } }],
    ['cookie.path', { cookie: { path: '' } }],
    ['cookie.domain', { cookie: { domain: 5 as never } }],
    ['cookie.sameSite', { cookie: { sameSite: 'sometimes' as never } }],
    ['cookie.sameSite', { cookie: { sameSite: 'none', secure: false } }],
    ['cookie.secure', { cookie: { secure: 'yes' as never } }],
    ['cookie.httpOnly', { cookie: { httpOnly: 1 as never } }],
    ['cookie.partitioned', { cookie: { partitioned: 'true' as never } }],
    ['duration', { duration: -1 }],
    ['duration', { duration: 0 }],
    ['duration', { duration: Number.NaN }],
    ['duration', { duration: '30 days' as never }],
    ['absoluteDuration', { absoluteDuration: 'forever' as never }],
    ['shortDuration', { shortDuration: 0 }],
    ['anonymousDuration', { anonymousDuration: '7 days' as never }],
    ['supersededGrace', { supersededGrace: -1 }],
    ['absoluteDuration', { duration: '30d', absoluteDuration: '1d' }],
    ['cacheTtl', { cacheTtl: 0 }],
    ['cacheTtl', { cacheTtl: '5 minutes' as never }],
    ['cacheTimeout', { cacheTimeout: -5 }],
    ['storeTimeout', { storeTimeout: 0 }],
    ['storeTimeout', { storeTimeout: '5 seconds' as never }],
    ['cleanupInterval', { cleanupInterval: true as never }],
    ['cleanupInterval', { cleanupInterval: 10 }],
    ['cleanupBatchSize', { cleanupBatchSize: 0 }],
    ['cleanupBatchSize', { cleanupBatchSize: 1.5 }],
    ['cleanupBatchSize', { cleanupBatchSize: '100' as never }],
    ['mergeActiveOrder', { mergeActiveOrder: 'keep' as never }],
    ['mergeGuestData', { mergeGuestData: true as never }],
    ['futureCalls', { futureCalls: 1 as never }],
    ['logs', { logs: 'verbose' as never }],
    ['logs.level', { logs: { level: 'loud' as never } }],
    ['logs.logAll', { logs: { logAll: 'yes' as never } }],
    ['logs.logSlow', { logs: { logSlow: 1 as never } }],
    ['logs.logFailed', { logs: { logFailed: 'no' as never } }],
    ['logs.sink', { logs: { sink: 'console' as never } }],
    ['logs.slowMs', { logs: { slowMs: -1 } }],
    ['logs.routes', { logs: { routes: 'POST /checkout' as never } }],
    ["logs.routes['POST /checkout'].logAll", { logs: { routes: { 'POST /checkout': { logAll: 'yes' as never } } } }],
    ["logs.routes['GET /'].sink", { logs: { routes: { 'GET /': { sink: () => {} } as never } } }],
    ['clock', { clock: 1_700_000_000_000 as never }],
  ];

  it.each(rows)('refuses a wrong `%s` with a TypeError naming it', (option, input) => {
    const withSecret = 'secret' in input ? input : { secret: SECRET, ...input };
    let caught: unknown;
    try {
      resolveOptions(withSecret);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect(caught).toBeInstanceOf(SessionConfigError);
    expect((caught as SessionConfigError).option).toBe(option);
    expect((caught as Error).message).toContain(`\`${option}\``);
  });

  it('covers every top-level option in the table', () => {
    const named = new Set(rows.map(([option]) => option.split('.')[0]));
    const known = ['store', 'cache', 'fleet', 'fleetTimeout', 'secret', 'tokenMethod', 'bearerHeader', 'tokenHeader', 'cookie', 'duration', 'shortDuration', 'anonymousDuration', 'supersededGrace', 'absoluteDuration', 'cacheTtl', 'cacheTimeout', 'storeTimeout', 'maxDataBytes', 'cleanupInterval', 'cleanupBatchSize', 'mergeActiveOrder', 'mergeGuestData', 'logs', 'futureCalls', 'messages', 'clock'];
    expect([...named].sort()).toEqual([...known].sort());
  });

  it.each(['sesion', 'maxAge', 'rolling', 'resave'])('refuses the unknown option `%s`, naming it', (key) => {
    expect(() => resolveOptions({ secret: SECRET, [key]: 1 } as SessionOptions)).toThrow(TypeError);
    expect(() => resolveOptions({ secret: SECRET, [key]: 1 } as SessionOptions)).toThrow(`\`${key}\``);
  });

  it.each([
    ['cookie.maxAge', { cookie: { maxAge: 60_000 } }],
    ['cookie.expires', { cookie: { expires: new Date(0) } }],
    ['logs.sinks', { logs: { sinks: [] } }],
    ['logs.logAllSessions', { logs: { logAllSessions: true } }],
  ])('refuses the unknown nested option `%s` (express-session habits must not be silently ignored)', (option, input) => {
    expect(() => resolveOptions({ secret: SECRET, ...(input as SessionOptions) })).toThrow(`\`${option}\``);
  });

  it('refuses options that are not an object', () => {
    expect(() => resolveOptions('secret' as never)).toThrow(TypeError);
    expect(() => resolveOptions(null as never)).toThrow(/`options`/);
  });
});

describe('resolveOptions: ownership', () => {
  it("never mutates the caller's object, and copies its arrays", () => {
    const input = deepFrozen({
      secret: ['a', 'b'],
      tokenMethod: ['bearer', 'cookie'] as ('bearer' | 'cookie')[],
      cookie: { name: 'sid', secure: true },
      logs: { level: 'warn' as const },
      duration: '1d' as const,
    });
    const before = JSON.stringify(input);
    const resolved = resolveOptions(input); // would throw on a write: everything is frozen
    expect(JSON.stringify(input)).toBe(before);
    expect(resolved.secrets).not.toBe(input.secret);
    expect(resolved.tokenMethods).not.toBe(input.tokenMethod);
    expect(resolved.cookie).not.toBe(input.cookie);
  });

  it('is unaffected by later changes to what the caller passed', () => {
    const methods: ('bearer' | 'cookie')[] = ['bearer'];
    const secrets = ['one'];
    const cookie: { name?: string } = { name: 'sid' };
    const resolved = resolveOptions({ tokenMethod: methods, secret: secrets, cookie });
    methods.push('cookie');
    secrets[0] = 'changed';
    cookie.name = 'other';
    expect(resolved.tokenMethods).toEqual(['bearer']);
    expect(resolved.secrets).toEqual(['one']);
    expect(resolved.cookie.name).toBe('sid');
  });

  it('returns a deeply frozen result', () => {
    const resolved = resolveOptions({ secret: SECRET, cache: [lruCache()] });
    for (const part of [resolved, resolved.cookie, resolved.logs, resolved.tokenMethods, resolved.secrets, resolved.caches]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (resolved as { duration: number }).duration = 1;
    }).toThrow(TypeError);
  });
});

describe('resolveOptions: secrets and environment', () => {
  it('refuses to start in production without a secret, whatever the transport (every token is tagged)', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(() => resolveOptions({})).toThrow(SessionConfigError);
    expect(() => resolveOptions({ tokenMethod: ['bearer', 'cookie'] })).toThrow(/`secret`/);
    expect(() => resolveOptions({ tokenMethod: 'bearer' })).toThrow(/`secret`/);
  });

  it.each(['production', 'Production', 'PRODUCTION'])('NODE_ENV=%s is production, in any case', (value) => {
    vi.stubEnv('NODE_ENV', value);
    expect(() => resolveOptions({})).toThrow(/`secret` is required in production/);
  });

  it('refuses a secret under 32 bytes in production, each one of a rotation list', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const long = 'x'.repeat(32);
    expect(resolveOptions({ secret: long }).secrets).toEqual([long]);
    expect(() => resolveOptions({ secret: 'x'.repeat(31) })).toThrow(/at least 32 bytes/);
    expect(() => resolveOptions({ secret: [long, 'short'] })).toThrow(/`secret`/);
    vi.stubEnv('NODE_ENV', 'development');
    expect(resolveOptions({ secret: 'short' }).secrets).toEqual(['short']); // development: any non-empty secret
  });

  it('logs everything (logAll) outside production only, as Serverpod logs all sessions in development only', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(resolveOptions({ secret: LONG_SECRET }).logs.logAll).toBe(false);
    expect(resolveOptions({ secret: LONG_SECRET, logs: { logAll: true } }).logs.logAll).toBe(true);
    vi.stubEnv('NODE_ENV', 'development');
    expect(resolveOptions({ secret: SECRET }).logs.logAll).toBe(true);
    expect(resolveOptions({ secret: SECRET, logs: { logAll: false } }).logs.logAll).toBe(false);
  });

  it('leaves Secure to each request unless told (production, or a secure request), and SameSite=None needs it said', () => {
    vi.stubEnv('NODE_ENV', 'production');
    expect(resolveOptions({ secret: LONG_SECRET }).cookie.secure).toBe('auto');
    expect(() => resolveOptions({ secret: LONG_SECRET, cookie: { sameSite: 'none' } })).toThrow(/cookie\.sameSite/);
    expect(resolveOptions({ secret: LONG_SECRET, cookie: { sameSite: 'none', secure: true } }).cookie.sameSite).toBe('none');
  });

  it('in development, signs with a random secret and warns SOJOURN_NO_SECRET once per process', async () => {
    vi.stubEnv('NODE_ENV', 'development');
    vi.resetModules(); // the warning is once per process: start from a fresh module
    const fresh = await import('../lib/options.js');

    let first: readonly string[] = [];
    const warnings = await sojournWarnings(() => {
      first = fresh.resolveOptions(undefined).secrets;
      fresh.resolveOptions({ tokenMethod: 'bearer' });
    });
    expect(warnings.map((w) => w.code)).toEqual(['SOJOURN_NO_SECRET']);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sojournWarnings(() => fresh.resolveOptions({}))).toEqual([]);
  });

  it('does not warn when a secret is given', async () => {
    vi.stubEnv('NODE_ENV', 'development');
    vi.resetModules();
    const fresh = await import('../lib/options.js');
    expect(await sojournWarnings(() => fresh.resolveOptions({ secret: SECRET }))).toEqual([]);
  });
});
