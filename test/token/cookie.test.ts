import { parse } from 'cookie';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type ResolvedCookie } from '../../lib/options.js';
import { createTokenCodec } from '../../lib/token/codec.js';
import { cookieHeader } from '../../lib/token/cookie.js';

const codec = createTokenCodec(['s']);
const { token } = codec.issue();

describe('cookieHeader', () => {
  const defaults = resolveOptions({ secret: 's' }).cookie;
  const attributes = (header: string) => header.split('; ').slice(1);

  it('sets the token with HttpOnly, SameSite=Lax, Path=/ and Max-Age in seconds', () => {
    const header = cookieHeader(defaults, false, token, 30 * 86_400_000);
    expect(header.startsWith('session=')).toBe(true);
    expect(attributes(header).sort()).toEqual(['HttpOnly', 'Max-Age=2592000', 'Path=/', 'SameSite=Lax'].sort());
    // What the browser sends back parses to the same token, which is also a valid bearer token.
    const sent = header.split('; ')[0]!;
    expect(parse(sent).session).toBe(token);
    expect(codec.verify(parse(sent).session!)?.token).toBe(token);
  });

  it('without a max age, is a browser-session cookie: no Max-Age, no Expires', () => {
    const header = cookieHeader(defaults, false, token, undefined);
    expect(attributes(header).sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Lax'].sort());
  });

  it('rounds Max-Age to the nearest second (a clock tick must not cost a second) and never below 0', () => {
    expect(cookieHeader(defaults, false, 'v', 1_999)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, false, 'v', 2_000)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, false, 'v', 2_400)).toContain('Max-Age=2;');
    expect(cookieHeader(defaults, false, 'v', 30 * 86_400_000 - 3)).toContain('Max-Age=2592000;');
    expect(cookieHeader(defaults, false, 'v', -5_000)).toContain('Max-Age=0;');
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
    const header = cookieHeader(cookie, true, 'v', 60_000);
    expect(header.startsWith('sid=v;')).toBe(true);
    expect(attributes(header).sort()).toEqual(
      ['Domain=example.com', 'HttpOnly', 'Max-Age=60', 'Partitioned', 'Path=/shop', 'SameSite=None', 'Secure'].sort(),
    );
  });

  it('leaves out Secure and HttpOnly when they are off', () => {
    const header = cookieHeader({ ...defaults, httpOnly: false, sameSite: 'strict' }, false, 'v', 1_000);
    expect(attributes(header).sort()).toEqual(['Max-Age=1', 'Path=/', 'SameSite=Strict']);
  });

  it('clears the cookie with an empty value, Max-Age=0 and an Expires in 1970', () => {
    const header = cookieHeader(defaults, false, undefined, 30 * 86_400_000);
    expect(header.startsWith('session=;')).toBe(true);
    expect(attributes(header).sort()).toEqual(
      ['Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'HttpOnly', 'Max-Age=0', 'Path=/', 'SameSite=Lax'].sort(),
    );
  });
});
