import { describe, expect, it } from 'vitest';
import { toMs } from '../lib/duration.js';

describe('toMs', () => {
  it.each([
    ['500ms', 500],
    ['1s', 1_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['30d', 2_592_000_000],
    ['2w', 1_209_600_000],
    ['1y', 31_557_600_000],
    ['0s', 0],
    ['0.5s', 500],
    ['5 m', 300_000],
    [' 5m ', 300_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(toMs(text)).toBe(ms);
  });

  it('takes numbers as milliseconds', () => {
    expect(toMs(0)).toBe(0);
    expect(toMs(1_500)).toBe(1_500);
    expect(toMs(0.5)).toBe(0.5);
  });

  it.each([
    ['a negative number', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a negative string', '-5m'],
    ['a bare number string', '5000'],
    ['an unknown unit', '5 minutes'],
    ['an uppercase unit', '30D'],
    ['a unit alone', 'd'],
    ['a leading dot', '.5h'],
    ['two numbers', '1h30m'],
    ['exponent notation', '1e3ms'],
    ['the empty string', ''],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object', { ms: 5 }],
    ['a bigint', 5n],
  ])('refuses %s', (_, value) => {
    expect(toMs(value)).toBeUndefined();
  });
});
