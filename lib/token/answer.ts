import type { ResolvedOptions, TokenMethod } from '../options.js';
import { cookieHeader, signToken } from './cookie.js';

/** How a token change goes back to the client: a `Set-Cookie` value and/or a response header. */
export interface TokenAnswer {
  readonly setCookie?: string;
  readonly header?: readonly [name: string, value: string];
}

/**
 * A new or renewed token, or "forget your token" (`token` undefined), answered the way the token
 * came in (`via`), or every configured way when the client brought none. A token that came in a
 * query parameter (WebSockets, opt-in) gets no answer: there is no way back for it.
 */
export function tokenAnswer(
  options: ResolvedOptions,
  via: TokenMethod | 'query' | undefined,
  token: string | undefined,
  expiresAt: number | undefined,
): TokenAnswer {
  const methods: readonly string[] = via ? [via] : options.tokenMethods;
  const value = token === undefined ? undefined : methods.includes('cookie') ? signToken(token, options.secrets) : undefined;
  return {
    setCookie: methods.includes('cookie') ? cookieHeader(options.cookie, value, (expiresAt ?? 0) - options.clock()) : undefined,
    header: methods.includes('bearer') ? [options.tokenHeader, token ?? ''] : undefined,
  };
}
