import { isProduction } from '../environment.js';
import type { ResolvedOptions, TokenMethod } from '../options.js';
import { cookieHeader } from './cookie.js';
import type { PresentedToken } from './extract.js';

/** How a token change goes back to the client: a `Set-Cookie` value and/or a response header. */
export interface TokenAnswer {
  readonly setCookie?: string;
  readonly header?: readonly [name: string, value: string];
}

/** A token change: the new token and its expiry, or nothing (`token` undefined: forget yours). */
export interface TokenChange {
  readonly token: string | undefined;
  readonly expiresAt: number | undefined;
  /** `false`: a browser-session cookie (no `Max-Age`), for `rememberMe: false`. */
  readonly persistent?: boolean;
}

/**
 * Answers the way the token came in. A client that brought none gets its token only where page
 * scripts cannot read it: the cookie, unless it asked for the header (token header sent empty)
 * or the cookie is not configured. A query-parameter token (WebSockets) has no way back. The
 * cookie is `Secure` in production and on a secure request, unless `cookie.secure` says otherwise.
 */
export function tokenAnswer(options: ResolvedOptions, presented: PresentedToken | { via: 'query' }, change: TokenChange, secureRequest: boolean): TokenAnswer {
  const methods = answerMethods(options.tokenMethods, presented);
  const { token, expiresAt, persistent = true } = change;
  const maxAge = persistent && expiresAt !== undefined ? expiresAt - options.clock() : undefined;
  const secure = options.cookie.secure === 'auto' ? secureRequest || isProduction() : options.cookie.secure;
  return {
    setCookie: methods.includes('cookie') ? cookieHeader(options.cookie, secure, token, maxAge) : undefined,
    header: methods.includes('bearer') ? [options.tokenHeader, token ?? ''] : undefined,
  };
}

// ---------------------------------------------------------------------------------------

function answerMethods(configured: readonly TokenMethod[], presented: PresentedToken | { via: 'query' }): readonly TokenMethod[] {
  if (presented.via === 'query') return [];
  const asked = 'asked' in presented && presented.asked;
  if (presented.via === 'cookie') return asked && configured.includes('bearer') ? ['cookie', 'bearer'] : ['cookie'];
  if (presented.via === 'bearer') return ['bearer'];
  if (asked) return configured;
  return configured.includes('cookie') ? ['cookie'] : configured;
}
