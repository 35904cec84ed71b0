import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type SessionOptions } from '../../lib/options.js';
import { newToken } from '../../lib/token/codec.js';
import { signToken } from '../../lib/token/cookie.js';
import { extractToken } from '../../lib/token/extract.js';

const SECRET = 'cookie-secret';
const options = (extra: SessionOptions = {}) => resolveOptions({ secret: SECRET, ...extra });
const cookieToken = newToken().token;
const bearerToken = newToken().token;
const ourCookie = `session=${encodeURIComponent(signToken(cookieToken, [SECRET]))}`;
const extract = (headers: IncomingHttpHeaders, extra?: SessionOptions) => extractToken(headers, options(extra));

describe('extractToken', () => {
  it('finds nothing when nothing was presented', () => {
    expect(extract({})).toBeUndefined();
    expect(extract({ 'user-agent': 'x' })).toBeUndefined();
  });

  it('reads our signed cookie', () => {
    expect(extract({ cookie: ourCookie })).toEqual({ via: 'cookie', token: cookieToken });
  });

  it('reads `Authorization: Bearer <token>`, the scheme in any case, trimmed', () => {
    expect(extract({ authorization: `Bearer ${bearerToken}` })).toEqual({ via: 'bearer', token: bearerToken });
    expect(extract({ authorization: `bearer   ${bearerToken} ` })).toEqual({ via: 'bearer', token: bearerToken });
  });

  it('prefers the cookie by default, and follows the order of tokenMethod', () => {
    const both = { cookie: ourCookie, authorization: `Bearer ${bearerToken}` };
    expect(extract(both)).toEqual({ via: 'cookie', token: cookieToken });
    expect(extract(both, { tokenMethod: ['cookie', 'bearer'] })).toEqual({ via: 'cookie', token: cookieToken });
    expect(extract(both, { tokenMethod: ['bearer', 'cookie'] })).toEqual({ via: 'bearer', token: bearerToken });
  });

  it('falls through to the next method when the first carries nothing', () => {
    expect(extract({ authorization: `Bearer ${bearerToken}` }, { tokenMethod: ['cookie', 'bearer'] })).toEqual({ via: 'bearer', token: bearerToken });
    expect(extract({ cookie: ourCookie }, { tokenMethod: ['bearer', 'cookie'] })).toEqual({ via: 'cookie', token: cookieToken });
    expect(extract({ cookie: 'theme=dark', authorization: `Bearer ${bearerToken}` })).toEqual({ via: 'bearer', token: bearerToken });
  });

  it('reads only the methods it was given', () => {
    expect(extract({ cookie: ourCookie }, { tokenMethod: 'bearer' })).toBeUndefined();
    expect(extract({ authorization: `Bearer ${bearerToken}` }, { tokenMethod: 'cookie' })).toBeUndefined();
  });

  it('leaves other Authorization schemes alone', () => {
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(extract({ authorization: bearerToken })).toBeUndefined();
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz', cookie: ourCookie }, { tokenMethod: ['bearer', 'cookie'] })).toEqual({
      via: 'cookie',
      token: cookieToken,
    });
  });

  it('reads a custom bearer header with or without the `Bearer ` prefix, and not Authorization then', () => {
    const custom = { bearerHeader: 'X-Session-Token' };
    expect(extract({ 'x-session-token': bearerToken }, custom)).toEqual({ via: 'bearer', token: bearerToken });
    expect(extract({ 'x-session-token': `Bearer ${bearerToken}` }, custom)).toEqual({ via: 'bearer', token: bearerToken });
    expect(extract({ authorization: `Bearer ${bearerToken}` }, custom)).toBeUndefined();
  });

  it('reports a presented bearer header that holds no token as a token to forget', () => {
    expect(extract({ authorization: 'Bearer   ' })).toEqual({ via: 'bearer', token: undefined });
  });

  it('reports our cookie that fails verification as a token to forget', () => {
    const forged = `session=${encodeURIComponent(signToken(cookieToken, ['someone-else']))}`;
    expect(extract({ cookie: forged })).toEqual({ via: 'cookie', token: undefined });
    expect(extract({ cookie: `session=${cookieToken}` })).toEqual({ via: 'cookie', token: undefined });
    expect(extract({ cookie: 'session=junk' })).toEqual({ via: 'cookie', token: undefined });
  });

  it('verifies with every configured secret (rotation)', () => {
    const old = `session=${encodeURIComponent(signToken(cookieToken, ['old']))}`;
    expect(extractToken({ cookie: old }, resolveOptions({ secret: ['new', 'old'] }))).toEqual({ via: 'cookie', token: cookieToken });
  });

  it('ignores other cookies, including ones whose name contains ours', () => {
    expect(extract({ cookie: 'theme=dark; mysession=abc; session_id=xyz' })).toBeUndefined();
    expect(extract({ cookie: 'session=' })).toBeUndefined();
    expect(extract({ cookie: `theme=dark; ${ourCookie}; lang=fr` })).toEqual({ via: 'cookie', token: cookieToken });
  });

  it('reads the configured cookie name', () => {
    const sid = `sid=${encodeURIComponent(signToken(cookieToken, [SECRET]))}`;
    expect(extract({ cookie: sid }, { cookie: { name: 'sid' } })).toEqual({ via: 'cookie', token: cookieToken });
    expect(extract({ cookie: ourCookie }, { cookie: { name: 'sid' } })).toBeUndefined();
  });
});
