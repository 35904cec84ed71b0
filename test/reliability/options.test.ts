/**
 * Every option, fuzzed: fast-check draws values of every type (and near misses of the right one);
 * a value the README's contract allows must be accepted, and any other must fail at start-up with
 * a TypeError (`SessionConfigError`) whose `option` names it. test/options.test.ts holds the
 * hand-picked table; this is the same check over thousands of values per option.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { lruCache, memoryFleet, memoryStore, SessionConfigError, sessionMiddleware, type SessionOptions } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options.js';
import { report, size } from './figures.js';

const RUNS = size(300, 5_000);
const SECRET = 'options-fuzz-secret';
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)$/;
const UNIT: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31_557_600_000 };

/** The README's duration: finite ms >= min, or '<number><unit>' >= min. */
const isDuration = (min: number) => (v: unknown) => {
  if (typeof v === 'number') return Number.isFinite(v) && v >= min;
  if (typeof v !== 'string') return false;
  const m = DURATION.exec(v.trim());
  return m !== null && Number(m[1]) * UNIT[m[2]!]! >= min;
};
const isFn = (v: unknown) => typeof v === 'function';
const isBool = (v: unknown) => typeof v === 'boolean';
const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
const hasAll = (v: unknown, methods: string[]) => typeof v === 'object' && v !== null && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
const STORE_METHODS = ['get', 'create', 'update', 'delete', 'deleteByUser', 'deleteByActiveOrderId', 'listByUser', 'deleteExpired'];
const CACHE_METHODS = ['get', 'set', 'delete', 'clear']; // setMissing is optional
const FLEET_METHODS = ['start', 'publish', 'subscribe', 'lock', 'close'];

const durationish = fc.oneof(
  fc.double(),
  fc.integer({ min: -10, max: 5_000 }),
  fc.tuple(fc.oneof(fc.nat(2_000).map(String), fc.double({ min: -5, max: 100, noNaN: true }).map(String), fc.constantFrom('', '-1', '1e3', '.5', '0x10', 'Infinity')), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w', 'y', ' d', 'days', 'sec', 'M', '', ' ')).map(([n, u]) => n + u),
);
const methodsObject = (methods: string[]) =>
  fc.subarray(methods).map((present) => Object.fromEntries(methods.map((m) => [m, present.includes(m) ? () => undefined : 'nope'])));

/** [option path, how to put a value there, what the contract accepts, extra near-miss values]. */
type Row = [string, (v: unknown) => SessionOptions, (v: unknown) => boolean, fc.Arbitrary<unknown>];
const top = (key: string, base: SessionOptions = {}) => (v: unknown) => ({ secret: SECRET, ...base, [key]: v }) as SessionOptions;
const nested = (group: 'cookie' | 'logs', key: string, base: Record<string, unknown> = {}) => (v: unknown) =>
  ({ secret: SECRET, [group]: { ...base, [key]: v } }) as SessionOptions;

const ROWS: Row[] = [
  ['store', top('store'), (v) => hasAll(v, STORE_METHODS), fc.oneof(methodsObject(STORE_METHODS), fc.constant(memoryStore()))],
  ['cache', top('cache'), (v) => v === false || (Array.isArray(v) ? v : [v]).every((c) => hasAll(c, CACHE_METHODS)), fc.oneof(methodsObject(CACHE_METHODS), fc.constant(lruCache()), fc.constant([lruCache(), {}]), fc.constant(true))],
  ['fleet', top('fleet'), (v) => hasAll(v, FLEET_METHODS), fc.oneof(methodsObject(FLEET_METHODS), fc.constant(memoryFleet()))],
  ['fleetTimeout', top('fleetTimeout'), isDuration(1), durationish],
  ['maxDataBytes', top('maxDataBytes'), (v) => Number.isSafeInteger(v) && (v as number) >= 1, fc.oneof(fc.integer(), fc.double(), fc.constantFrom('64kb', 2 ** 53))],
  ['secret', top('secret'), (v) => isText(v) || (Array.isArray(v) && v.length > 0 && v.every(isText)), fc.oneof(fc.array(fc.oneof(fc.string(), fc.integer())), fc.string())],
  ['tokenMethod', top('tokenMethod'), (v) => {
    const m = typeof v === 'string' ? [v] : v;
    return Array.isArray(m) && m.length > 0 && new Set(m).size === m.length && m.every((x) => x === 'cookie' || x === 'bearer');
  }, fc.oneof(fc.constantFrom('cookie', 'bearer', 'Cookie', 'header', ''), fc.array(fc.constantFrom('cookie', 'bearer', 'jwt'), { maxLength: 3 }))],
  ['bearerHeader', top('bearerHeader'), (v) => typeof v === 'string' && TOKEN_CHARS.test(v), fc.oneof(fc.string(), fc.constantFrom('X-Token', 'a b', 'a:b', ''))],
  ['tokenHeader', top('tokenHeader'), (v) => typeof v === 'string' && TOKEN_CHARS.test(v), fc.oneof(fc.string(), fc.constantFrom('X-Token', 'a\nb'))],
  ['duration', top('duration', { absoluteDuration: Number.MAX_VALUE }), isDuration(1), durationish],
  ['absoluteDuration', top('absoluteDuration', { duration: 1 }), isDuration(1), durationish],
  ['cacheTtl', top('cacheTtl'), isDuration(1), durationish],
  ['cacheTimeout', top('cacheTimeout'), isDuration(1), durationish],
  ['storeTimeout', top('storeTimeout'), isDuration(1), durationish],
  ['cleanupInterval', top('cleanupInterval'), (v) => v === false || isDuration(1_000)(v), fc.oneof(durationish, fc.boolean())],
  ['cleanupBatchSize', top('cleanupBatchSize'), (v) => Number.isSafeInteger(v) && (v as number) >= 1, fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 53))],
  ['mergeActiveOrder', top('mergeActiveOrder'), isFn, fc.constant(() => undefined)],
  ['mergeGuestData', top('mergeGuestData'), isFn, fc.constant(() => undefined)],
  ['clock', top('clock'), isFn, fc.constant(Date.now)],
  ['cookie.name', nested('cookie', 'name'), (v) => typeof v === 'string' && TOKEN_CHARS.test(v), fc.oneof(fc.string(), fc.constantFrom('sid', 'my sid', 'a;b', ''))],
  ['cookie.path', nested('cookie', 'path'), isText, fc.string()],
  ['cookie.domain', nested('cookie', 'domain'), isText, fc.string()],
  ['cookie.sameSite', nested('cookie', 'sameSite', { secure: true }), (v) => v === 'lax' || v === 'strict' || v === 'none', fc.constantFrom('lax', 'strict', 'none', 'Lax', 'None', '')],
  ['cookie.secure', nested('cookie', 'secure'), isBool, fc.constantFrom('true', 1, 0)],
  ['cookie.httpOnly', nested('cookie', 'httpOnly'), isBool, fc.constantFrom('false', 1, 0)],
  ['cookie.partitioned', nested('cookie', 'partitioned'), isBool, fc.constantFrom('true', 1)],
  ['logs.sink', nested('logs', 'sink'), isFn, fc.constant(() => {})],
  ['logs.level', nested('logs', 'level'), (v) => ['debug', 'info', 'warn', 'error'].includes(v as string), fc.constantFrom('debug', 'info', 'warn', 'error', 'INFO', 'trace', 'fatal')],
  ['logs.slowMs', nested('logs', 'slowMs'), isDuration(0), durationish],
  ['logs.logAll', nested('logs', 'logAll'), isBool, fc.constantFrom('yes', 1)],
];

const tried: Record<string, { accepted: number; refused: number }> = {};
afterAll(() => {
  const total = Object.values(tried).reduce((n, t) => n + t.accepted + t.refused, 0);
  report('options', { options: Object.keys(tried).length, valuesTried: total, perOption: tried });
});

/** The outcome of resolving; undefined means it started. */
function refusal(input: SessionOptions): SessionConfigError | undefined {
  try {
    resolveOptions(input);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toBeInstanceOf(SessionConfigError);
    return error as SessionConfigError;
  }
}

/** Values `String()` cannot print (a null-prototype object, `{ toString: 0 }`, arrays of them). */
function printable(value: unknown): boolean {
  try {
    String(value);
    return true;
  } catch {
    return false;
  }
}

describe('two defects the fuzzing found (fixed)', () => {
  // describe() used to call String(value), which throws its own TypeError for these, so the
  // caller got "Cannot convert object to primitive value" instead of the option's name.
  it.each([
    ['duration', Object.create(null)],
    ['cacheTtl', { toString: 0 }],
    ['bearerHeader', [Object.create(null)]],
    ['cleanupBatchSize', Object.create(null)],
    ['storeTimeout', Object.create(null)],
  ])('names `%s` when its wrong value cannot be printed', (option, value) => {
    expect(refusal({ secret: SECRET, [option]: value } as SessionOptions)?.option).toBe(option);
  });

  // `c.sameSite ?? 'lax'` used to take null for "not given" (STYLE: `=== undefined`, not `??`/`||`).
  it('refuses `cookie.sameSite: null` instead of reading it as the default', () => {
    expect(refusal({ secret: SECRET, cookie: { sameSite: null as never } })?.option).toBe('cookie.sameSite');
  });
});

describe('every option, fuzzed', () => {
  it.each(ROWS)('`%s`: accepts what the contract allows, refuses anything else naming the option', (option, put, valid, nearMiss) => {
    const counts = (tried[option] = { accepted: 0, refused: 0 });
    const value = fc
      .oneof(fc.anything({ withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true }), nearMiss, fc.constantFrom(null, Number.NaN, Infinity, -0, Symbol('x'), [], {}))
      ;
    fc.assert(
      fc.property(value, (v) => {
        if (v === undefined) return; // the default
        const refused = refusal(put(v));
        if (valid(v)) {
          expect(refused?.message).toBeUndefined();
          counts.accepted++;
        } else {
          expect(refused?.option).toBe(option);
          expect(refused?.message).toContain(`\`${option}\``);
          counts.refused++;
        }
      }),
      { numRuns: RUNS },
    );
    expect(counts.refused).toBeGreaterThan(0);
  });

  it('refuses unknown option names, naming them', () => {
    const known = new Set([...ROWS.map(([o]) => o.split('.')[0]!), 'logs', 'cookie', 'futureCalls', '__proto__', 'constructor']);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !known.has(k)), fc.anything(), (key, v) => {
        expect(refusal({ secret: SECRET, [key]: v } as SessionOptions)?.option).toBe(key);
      }),
      { numRuns: RUNS },
    );
  });

  it('fails at start-up: sessionMiddleware() throws before any request', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROWS), fc.anything(), ([option, put, valid], v) => {
        fc.pre(v !== undefined && !valid(v));
        expect(() => sessionMiddleware(put(v))).toThrow(expect.objectContaining({ option }));
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });
});
