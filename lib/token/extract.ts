import type { IncomingHttpHeaders } from 'node:http';
import { parse } from 'cookie';
import { Memo } from '../memo.js';
import type { ResolvedOptions, TokenMethod } from '../options.js';
import { unsignToken } from './cookie.js';

/**
 * What the client presented, by the first method (in `tokenMethod` order) that carries anything.
 * `token` is undefined when something was presented but cannot be a token (a bad signature):
 * the client is then told to forget it.
 */
export interface PresentedToken {
  readonly via: TokenMethod;
  readonly token: string | undefined;
}

export function extractToken(headers: IncomingHttpHeaders, options: ResolvedOptions): PresentedToken | undefined {
  for (const method of options.tokenMethods) {
    const presented = method === 'cookie' ? fromCookie(headers.cookie, options) : fromHeader(headers[options.bearerHeader], options.bearerHeader === 'authorization');
    if (presented !== undefined) return presented;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------

const UNVERIFIED_COOKIE: PresentedToken = Object.freeze({ via: 'cookie', token: undefined });

function fromCookie(header: string | undefined, options: ResolvedOptions): PresentedToken | undefined {
  if (!header || !header.includes(options.cookie.name)) return undefined;
  let memo = headers.get(options);
  const known = memo?.get(header);
  if (known !== undefined) return known;
  const value = parse(header)[options.cookie.name];
  if (value === undefined || value === '') return undefined;
  const token = unsignToken(value, options.secrets);
  if (token === undefined) return UNVERIFIED_COOKIE; // never remembered: junk cannot crowd out real cookies
  const presented: PresentedToken = Object.freeze({ via: 'cookie', token });
  if (header.length > HEADER_MEMO_LENGTH) return presented;
  if (!memo) headers.set(options, (memo = new Memo(HEADER_MEMO_MAX)));
  return memo.set(header, presented);
}

/**
 * Whole Cookie headers whose token verified, per options: a browser sends the same header on every
 * request, and parsing and URI-decoding it costs more than the rest of a warm lookup. Bounded in
 * entries and in header length; a hit is exactly what parsing and verifying that header gave.
 */
const HEADER_MEMO_MAX = 1024;
const HEADER_MEMO_LENGTH = 1024;
const headers = new WeakMap<ResolvedOptions, Memo<PresentedToken>>();

const BEARER = /^Bearer\s+/i;

/** `Authorization` may carry other schemes (Basic…), which are not ours; a custom header is all ours. */
function fromHeader(header: string | string[] | undefined, bearerOnly: boolean): PresentedToken | undefined {
  if (typeof header !== 'string' || header.length === 0) return undefined;
  const scheme = BEARER.exec(header);
  if (!scheme && bearerOnly) return undefined;
  const token = (scheme ? header.slice(scheme[0].length) : header).trim();
  return { via: 'bearer', token: token || undefined };
}
