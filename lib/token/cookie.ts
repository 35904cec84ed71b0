import { serialize } from 'cookie';
import { sign, unsign } from 'cookie-signature';
import type { ResolvedCookie } from '../options.js';
import { TOKEN_LENGTH } from './codec.js';

const PREFIX = 's:';
// `s:` + token + `.` + unpadded base64 HMAC-SHA256 (43 characters): anything longer or shorter is junk.
const SIGNED_LENGTH = PREFIX.length + TOKEN_LENGTH + 1 + 43;

/** The cookie value: the token signed with the first secret, express-session's `s:` format. */
export function signToken(token: string, secrets: readonly string[]): string {
  return PREFIX + sign(token, secrets[0]!);
}

/** The token inside a signed cookie value, or `undefined` when no secret verifies it (no HMAC for junk). */
export function unsignToken(value: string, secrets: readonly string[]): string | undefined {
  if (value.length !== SIGNED_LENGTH || !value.startsWith(PREFIX)) return undefined;
  const signed = value.slice(PREFIX.length);
  for (const secret of secrets) {
    const token = unsign(signed, secret);
    if (token !== false) return token;
  }
  return undefined;
}

/** A `Set-Cookie` value carrying `value` for `maxAgeMs`, or clearing the cookie when `value` is undefined. */
export function cookieHeader(cookie: ResolvedCookie, value: string | undefined, maxAgeMs: number): string {
  return serialize(cookie.name, value ?? '', {
    path: cookie.path,
    domain: cookie.domain,
    sameSite: cookie.sameSite,
    secure: cookie.secure,
    httpOnly: cookie.httpOnly,
    partitioned: cookie.partitioned || undefined,
    ...(value === undefined ? { maxAge: 0, expires: new Date(0) } : { maxAge: Math.max(0, Math.round(maxAgeMs / 1000)) }),
  });
}
