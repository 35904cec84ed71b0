import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { resolveOptions, type SessionOptions } from '../../lib/options.js';
import { createTokenCodec } from '../../lib/token/codec.js';
import { extractToken, type PresentedToken } from '../../lib/token/extract.js';

const SECRET = 'cookie-secret';
const codec = createTokenCodec([SECRET]);
const cookieToken = codec.issue().token;
const bearerToken = codec.issue().token;
const ourCookie = `session=${encodeURIComponent(cookieToken)}`;
const extract = (headers: IncomingHttpHeaders, extra: SessionOptions = {}, using = codec) => {
  const presented = extractToken(headers, resolveOptions({ secret: SECRET, ...extra }), using);
  return { via: presented.via, token: presented.token?.token, asked: presented.asked };
};
const found = (via: PresentedToken['via'], token: string | undefined, asked = false) => ({ via, token, asked });
const nothing = found(undefined, undefined);

describe('extractToken', () => {
  it('finds nothing when nothing was presented', () => {
    expect(extract({})).toEqual(nothing);
    expect(extract({ 'user-agent': 'x' })).toEqual(nothing);
  });

  it('reads our cookie, percent-encoded or not', () => {
    expect(extract({ cookie: ourCookie })).toEqual(found('cookie', cookieToken));
    expect(extract({ cookie: `session=${cookieToken}` })).toEqual(found('cookie', cookieToken));
  });

  it("reads sojourn 0.1's `s:` cookie value", () => {
    expect(extract({ cookie: `session=${encodeURIComponent(`s:${cookieToken}`)}` })).toEqual(found('cookie', cookieToken));
  });

  it('reads `Authorization: Bearer <token>`, the scheme in any case, trimmed', () => {
    expect(extract({ authorization: `Bearer ${bearerToken}` })).toEqual(found('bearer', bearerToken));
    expect(extract({ authorization: `bearer   ${bearerToken} ` })).toEqual(found('bearer', bearerToken));
  });

  it('one token form: the token inside a cookie is a valid bearer token, and the reverse', () => {
    expect(extract({ authorization: `Bearer ${cookieToken}` })).toEqual(found('bearer', cookieToken));
    expect(extract({ cookie: `session=${bearerToken}` })).toEqual(found('cookie', bearerToken));
  });

  it('prefers the cookie by default, and follows the order of tokenMethod', () => {
    const both = { cookie: ourCookie, authorization: `Bearer ${bearerToken}` };
    expect(extract(both)).toEqual(found('cookie', cookieToken));
    expect(extract(both, { tokenMethod: ['cookie', 'bearer'] })).toEqual(found('cookie', cookieToken));
    expect(extract(both, { tokenMethod: ['bearer', 'cookie'] })).toEqual(found('bearer', bearerToken));
  });

  it('falls through to the next method when the first carries nothing', () => {
    expect(extract({ authorization: `Bearer ${bearerToken}` }, { tokenMethod: ['cookie', 'bearer'] })).toEqual(found('bearer', bearerToken));
    expect(extract({ cookie: ourCookie }, { tokenMethod: ['bearer', 'cookie'] })).toEqual(found('cookie', cookieToken));
    expect(extract({ cookie: 'theme=dark', authorization: `Bearer ${bearerToken}` })).toEqual(found('bearer', bearerToken));
  });

  it('reads only the methods it was given', () => {
    expect(extract({ cookie: ourCookie }, { tokenMethod: 'bearer' })).toEqual(nothing);
    expect(extract({ authorization: `Bearer ${bearerToken}` }, { tokenMethod: 'cookie' })).toEqual(nothing);
  });

  it('leaves other Authorization schemes alone', () => {
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual(nothing);
    expect(extract({ authorization: bearerToken })).toEqual(nothing);
    expect(extract({ authorization: 'Basic dXNlcjpwYXNz', cookie: ourCookie }, { tokenMethod: ['bearer', 'cookie'] })).toEqual(found('cookie', cookieToken));
  });

  it('reads a custom bearer header with or without the `Bearer ` prefix, and not Authorization then', () => {
    const custom = { bearerHeader: 'X-Session-Token' };
    expect(extract({ 'x-session-token': bearerToken }, custom)).toEqual(found('bearer', bearerToken));
    expect(extract({ 'x-session-token': `Bearer ${bearerToken}` }, custom)).toEqual(found('bearer', bearerToken));
    expect(extract({ authorization: `Bearer ${bearerToken}` }, custom)).toEqual(nothing);
  });

  it('reports a presented bearer header that holds no token as a token to forget', () => {
    expect(extract({ authorization: 'Bearer   ' })).toEqual(found('bearer', undefined));
  });

  it('reports a cookie or bearer token that fails verification as a token to forget (no I/O follows)', () => {
    const foreign = createTokenCodec(['someone-else']).issue().token;
    expect(extract({ cookie: `session=${foreign}` })).toEqual(found('cookie', undefined));
    expect(extract({ authorization: `Bearer ${foreign}` })).toEqual(found('bearer', undefined));
    expect(extract({ cookie: 'session=junk' })).toEqual(found('cookie', undefined));
  });

  it('verifies with every configured secret (rotation)', () => {
    const old = createTokenCodec(['old']).issue().token;
    expect(extract({ cookie: `session=${old}` }, { secret: ['new', 'old'] }, createTokenCodec(['new', 'old']))).toEqual(found('cookie', old));
  });

  it('ignores other cookies, including ones whose name contains ours', () => {
    expect(extract({ cookie: 'theme=dark; mysession=abc; session_id=xyz' })).toEqual(nothing);
    expect(extract({ cookie: 'session=' })).toEqual(nothing);
    expect(extract({ cookie: `theme=dark; ${ourCookie}; lang=fr` })).toEqual(found('cookie', cookieToken));
  });

  it('reads the configured cookie name', () => {
    expect(extract({ cookie: `sid=${cookieToken}` }, { cookie: { name: 'sid' } })).toEqual(found('cookie', cookieToken));
    expect(extract({ cookie: ourCookie }, { cookie: { name: 'sid' } })).toEqual(nothing);
  });

  it('notes a client that asks for its token in a header (the token header, sent empty)', () => {
    expect(extract({ 'session-token': '' })).toEqual(found(undefined, undefined, true));
    expect(extract({ 'session-token': '', cookie: ourCookie })).toEqual(found('cookie', cookieToken, true));
    expect(extract({ 'session-token': 'x' })).toEqual(nothing);
  });
});
