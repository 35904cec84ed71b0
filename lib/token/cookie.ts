import { serialize } from 'cookie';
import type { ResolvedCookie } from '../options.js';

/**
 * A `Set-Cookie` value: the token for `maxAgeMs` (`undefined`: a browser-session cookie, no
 * `Max-Age`), or clearing the cookie when `token` is undefined.
 */
export function cookieHeader(cookie: ResolvedCookie, secure: boolean, token: string | undefined, maxAgeMs: number | undefined): string {
  const lifetime =
    token === undefined ? { maxAge: 0, expires: new Date(0) } : maxAgeMs === undefined ? {} : { maxAge: Math.max(0, Math.round(maxAgeMs / 1000)) };
  return serialize(cookie.name, token ?? '', {
    path: cookie.path,
    domain: cookie.domain,
    sameSite: cookie.sameSite,
    secure,
    httpOnly: cookie.httpOnly,
    partitioned: cookie.partitioned || undefined,
    ...lifetime,
  });
}
