import type { IncomingHttpHeaders } from 'node:http';
import { parse } from 'cookie';
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

const BEARER = /^Bearer\s+/i;

export function extractToken(headers: IncomingHttpHeaders, options: ResolvedOptions): PresentedToken | undefined {
  for (const method of options.tokenMethods) {
    const presented = method === 'cookie' ? fromCookie(headers.cookie, options) : fromHeader(headers[options.bearerHeader], options.bearerHeader === 'authorization');
    if (presented !== undefined) return { via: method, token: presented || undefined };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------

/** The token, '' for a cookie of ours that does not verify, `undefined` when there is none. */
function fromCookie(header: string | undefined, options: ResolvedOptions): string | undefined {
  if (!header || !header.includes(options.cookie.name)) return undefined;
  let memo = headers.get(options);
  const known = memo?.get(header);
  if (known !== undefined) return known;
  const value = parse(header)[options.cookie.name];
  if (value === undefined || value === '') return undefined;
  const token = unsignToken(value, options.secrets);
  if (token === undefined) return '';
  if (header.length <= HEADER_MEMO_LENGTH) {
    if (!memo) headers.set(options, (memo = new Map()));
    if (memo.size >= HEADER_MEMO_MAX) memo.delete(memo.keys().next().value!);
    memo.set(header, token);
  }
  return token;
}

/**
 * Whole Cookie headers whose token verified, per options: a browser sends the same header on every
 * request, and parsing and URI-decoding it costs more than the rest of a warm lookup. Bounded in
 * entries and in header length; a hit is exactly what parsing and verifying that header gave.
 */
const HEADER_MEMO_MAX = 1024;
const HEADER_MEMO_LENGTH = 1024;
const headers = new WeakMap<ResolvedOptions, Map<string, string>>();

/** `Authorization` may carry other schemes (Basic…), which are not ours; a custom header is all ours. */
function fromHeader(header: string | string[] | undefined, bearerOnly: boolean): string | undefined {
  if (typeof header !== 'string' || header.length === 0) return undefined;
  if (BEARER.test(header)) return header.replace(BEARER, '').trim();
  return bearerOnly ? undefined : header.trim();
}
