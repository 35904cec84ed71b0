import { parse } from 'cookie';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type ResolvedCookie } from '../../lib/options.js';
import { newToken } from '../../lib/token/codec.js';
import { cookieHeader, signToken, unsignToken } from '../../lib/token/cookie.js';

const { token } = newToken();

describe('signToken / unsignToken', () => {
  it("round-trips a token in express-session's `s:` format", () => {
    const value = signToken(token, ['secret-1']);
    expect(value.startsWith(`s:${token}.`)).toBe(true);
    expect(value).toHaveLength(2 + 80 + 1 + 43);
    expect(unsignToken(value, ['secret-1'])).toBe(token);
  });

  it('signs with the first secret and verifies with any of them (rotation)', () => {
    const old = signToken(token, ['old']);
    expect(unsignToken(old, ['new', 'old'])).toBe(token);
    const fresh = signToken(token, ['new', 'old']);
    expect(fresh).not.toBe(old);
    expect(unsignToken(fresh, ['new'])).toBe(token);
    expect(unsignToken(fresh, ['old'])).toBeUndefined();
  });

  it('refuses a cookie signed with a secret that is not in the list', () => {
    expect(unsignToken(signToken(token, ['retired']), ['new', 'old'])).toBeUndefined();
  });

  it('refuses a forged signature of the right length', () => {
    const value = signToken(token, ['k']);
    const last = value.at(-2) === 'A' ? 'B' : 'A';
    expect(unsignToken(value.slice(0, -2) + last + value.at(-1)!, ['k'])).toBeUndefined();
  });

  it('refuses a token swapped under a valid signature', () => {
    const value = signToken(token, ['k']);
    const other = newToken().token;
    expect(unsignToken(`s:${other}${value.slice(2 + 80)}`, ['k'])).toBeUndefined();
  });

  it.each([
    ['one char long', (v: string) => `${v}A`],
    ['one char short', (v: string) => v.slice(0, -1)],
    ['without the s: prefix', (v: string) => v.slice(2)],
    ['with another prefix of the same length', (v: string) => `x:${v.slice(2)}`],
    ['the bare token', () => token],
    ['empty', () => ''],
  ])('refuses a value %s', (_, mangle) => {
    expect(unsignToken(mangle(signToken(token, ['k'])), ['k'])).toBeUndefined();
  });
});

describe('cookieHeader', () => {
  const defaults = resolveOptions({ secret: 's' }).cookie;
  const attributes = (header: string) => header.split('; ').slice(1);

  it('sets the signed token with HttpOnly, SameSite=Lax, Path=/ and Max-Age in seconds', () => {
    const value = signToken(token, ['s']);
    const header = cookieHeader(defaults, value, 30 * 86_400_000);
    expect(header.startsWith('session=')).toBe(true);
    expect(attributes(header).sort()).toEqual(['HttpOnly', 'Max-Age=2592000', 'Path=/', 'SameSite=Lax'].sort());
    // What the browser sends back parses to the same signed value.
    const sent = header.split('; ')[0]!;
    expect(unsignToken(parse(sent).session!, ['s'])).toBe(token);
  });

  it('rounds Max-Age to the nearest second (a clock tick must not cost a second) and never below 0', () => {
    expect(cookieHeader(defaults, 'v', 1_999)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, 'v', 2_000)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, 'v', 2_400)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, 'v', 30 * 86_400_000 - 3)).toContain('Max-Age=2592000;');
    expect(cookieHeader(defaults, 'v', -5_000)).toContain('Max-Age=0;');
  });

  it('adds Secure, Domain, Partitioned and a custom name, path and SameSite when configured', () => {
    const cookie: ResolvedCookie = {
      name: 'sid',
      path: '/shop',
      domain: 'example.com',
      sameSite: 'none',
      secure: true,
      httpOnly: true,
      partitioned: true,
    };
    const header = cookieHeader(cookie, 'v', 60_000);
    expect(header.startsWith('sid=v;')).toBe(true);
    expect(attributes(header).sort()).toEqual(
      ['Domain=example.com', 'HttpOnly', 'Max-Age=60', 'Partitioned', 'Path=/shop', 'SameSite=None', 'Secure'].sort(),
    );
  });

  it('leaves out Secure and HttpOnly when they are off', () => {
    const header = cookieHeader({ ...defaults, secure: false, httpOnly: false, sameSite: 'strict' }, 'v', 1_000);
    expect(attributes(header).sort()).toEqual(['Max-Age=1', 'Path=/', 'SameSite=Strict']);
  });

  it('clears the cookie with an empty value, Max-Age=0 and an Expires in 1970', () => {
    const header = cookieHeader(defaults, undefined, 30 * 86_400_000);
    expect(header.startsWith('session=;')).toBe(true);
    expect(attributes(header).sort()).toEqual(
      ['Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'HttpOnly', 'Max-Age=0', 'Path=/', 'SameSite=Lax'].sort(),
    );
  });
});
