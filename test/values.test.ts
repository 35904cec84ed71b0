import { describe, expect, it } from 'vitest';
import type { IdOrEntity } from '../lib/types.js';
import { deepFreeze, idOf, jsonCopy } from '../lib/values.js';

describe('idOf', () => {
  it('takes a string or number id as it is, keeping its type', () => {
    expect(idOf('order-1', 'order')).toBe('order-1');
    expect(idOf(42, 'order')).toBe(42);
    expect(idOf(0, 'order')).toBe(0);
    expect(idOf('0', 'order')).toBe('0');
  });

  it("takes an entity's id", () => {
    expect(idOf({ id: 7 }, 'order')).toBe(7);
    expect(idOf({ id: 'c-1', code: 'eu' } as IdOrEntity, 'channel')).toBe('c-1');
  });

  it.each([
    ['an empty string', ''],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object without id', {}],
    ['an object with a null id', { id: null }],
    ['an object with an empty id', { id: '' }],
    ['an object with an object id', { id: { id: 1 } }],
    ['an array', [1]],
  ])('refuses %s with a TypeError naming what was expected', (_, value) => {
    expect(() => idOf(value as IdOrEntity, 'the active order')).toThrow(TypeError);
    expect(() => idOf(value as IdOrEntity, 'the active order')).toThrow(/the active order/);
  });
});

describe('jsonCopy', () => {
  it('copies deeply: the copy shares nothing with the original', () => {
    const original = { a: { b: [1, { c: 'x' }] }, n: null, t: true };
    const copy = jsonCopy(original, 'value');
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    expect(copy.a).not.toBe(original.a);
    expect(copy.a.b[1]).not.toBe(original.a.b[1]);
  });

  it('hands back what a JSON store would: dates as strings, undefined keys dropped', () => {
    const copy = jsonCopy({ at: new Date(0), gone: undefined, list: [undefined] }, 'value');
    expect(copy).toStrictEqual({ at: '1970-01-01T00:00:00.000Z', list: [null] });
  });

  it('copies primitives', () => {
    expect(jsonCopy('text', 'v')).toBe('text');
    expect(jsonCopy(3, 'v')).toBe(3);
    expect(jsonCopy(null, 'v')).toBeNull();
  });

  it.each([
    ['a function', () => 1],
    ['undefined', undefined],
    ['a symbol', Symbol('s')],
    ['a BigInt', 10n],
    ['a nested BigInt', { total: { cents: 10n } }],
  ])('refuses %s with a TypeError naming the value', (_, value) => {
    expect(() => jsonCopy(value, "session.set('cart')")).toThrow(TypeError);
    expect(() => jsonCopy(value, "session.set('cart')")).toThrow(/session\.set\('cart'\)/);
  });

  it('refuses a cycle with a TypeError carrying the cause', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    let caught: unknown;
    try {
      jsonCopy(cyclic, 'the user');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as Error).message).toContain('the user');
    expect((caught as Error).cause).toBeInstanceOf(TypeError); // JSON.stringify's "circular structure"
  });
});

describe('deepFreeze', () => {
  it('freezes an object, its nested objects and arrays, and returns it', () => {
    const value = { a: { b: { c: 1 } }, list: [{ d: 2 }] };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.list)).toBe(true);
    expect(Object.isFrozen(value.list[0])).toBe(true);
    expect(() => {
      (value.a.b as { c: number }).c = 2;
    }).toThrow(TypeError);
    expect(() => {
      value.list.push({ d: 3 });
    }).toThrow(TypeError);
  });

  it('returns primitives and null as they are', () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze('s')).toBe('s');
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
  });

  it('terminates on a cycle', () => {
    const cyclic: Record<string, unknown> = { inner: { n: 1 } };
    cyclic.self = cyclic;
    expect(deepFreeze(cyclic)).toBe(cyclic);
    expect(Object.isFrozen(cyclic.inner)).toBe(true);
  });
});
