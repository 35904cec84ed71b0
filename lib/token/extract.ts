import type { IncomingHttpHeaders } from 'node:http';
import { parse } from 'cookie';
import type { ResolvedOptions, TokenMethod } from '../options.js';
import type { TokenCodec, VerifiedToken } from './codec.js';

/**
 * What the client presented, by the first method (in `tokenMethod` order) that carries anything.
 * `token` is undefined when something was presented that is not a token of ours (junk, a forged
 * or a made-up one): the client is then told to forget it. `asked`: the request carried the token
 * header with an empty value, asking for the token in a header.
 */
export interface PresentedToken {
  readonly via: TokenMethod | undefined;
  readonly token: VerifiedToken | undefined;
  readonly asked: boolean;
}

export function extractToken(headers: IncomingHttpHeaders, options: ResolvedOptions, codec: TokenCodec): PresentedToken {
  const asked = headers[options.tokenHeader] === '';
  for (const method of options.tokenMethods) {
    const raw = method === 'cookie' ? fromCookie(headers.cookie, options.cookie.name) : fromHeader(headers[options.bearerHeader], options.bearerHeader === 'authorization');
    if (raw !== undefined) return { via: method, token: raw === '' ? undefined : codec.verify(raw), asked };
  }
  return asked ? ASKED : NOTHING;
}

// ---------------------------------------------------------------------------------------

const NOTHING: PresentedToken = Object.freeze({ via: undefined, token: undefined, asked: false });
const ASKED: PresentedToken = Object.freeze({ via: undefined, token: undefined, asked: true });

/** The cookie's value, `''` when present but empty, `undefined` when absent. */
function fromCookie(header: string | undefined, name: string): string | undefined {
  if (!header || !header.includes(name)) return undefined;
  const value = parse(header)[name];
  return value === '' ? undefined : value;
}

const BEARER = /^Bearer\s+/i;

/** `Authorization` may carry other schemes (Basic…), which are not ours; a custom header is all ours. */
function fromHeader(header: string | string[] | undefined, bearerOnly: boolean): string | undefined {
  if (typeof header !== 'string' || header.length === 0) return undefined;
  const scheme = BEARER.exec(header);
  if (!scheme && bearerOnly) return undefined;
  return (scheme ? header.slice(scheme[0].length) : header).trim();
}
