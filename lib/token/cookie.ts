import { serialize } from 'cookie';
import { sign, unsign } from 'cookie-signature';
import { Memo } from '../memo.js';
import type { ResolvedCookie } from '../options.js';
import { TOKEN_LENGTH } from './codec.js';

const PREFIX = 's:';
// `s:` + token + `.` + unpadded base64 HMAC-SHA256 (43 characters): anything longer or shorter is junk.
const SIGNED_LENGTH = PREFIX.length + TOKEN_LENGTH + 1 + 43;
/** Verified cookie values remembered per secret list: an HMAC costs ~6–12 µs, a Map lookup ~0.1 µs. */
const VERIFIED_MAX = 1024;
const verified = new WeakMap<readonly string[], Memo<string>>();

/** The cookie value: the token signed with the first secret, express-session's `s:` format. */
export function signToken(token: string, secrets: readonly string[]): string {
  return PREFIX + sign(token, secrets[0]!);
}

/** The token inside a signed cookie value, or `undefined` when no secret verifies it (no HMAC for junk). */
export function unsignToken(value: string, secrets: readonly string[]): string | undefined {
  if (value.length !== SIGNED_LENGTH || !value.startsWith(PREFIX)) return undefined;
  let memo = verified.get(secrets);
  const known = memo?.get(value);
  if (known !== undefined) return known;
  const token = verify(value.slice(PREFIX.length), secrets);
  if (token === undefined) return undefined; // junk is never remembered: it cannot crowd out real cookies
  if (!memo) verified.set(secrets, (memo = new Memo(VERIFIED_MAX)));
  // Keyed by the whole signed value under one secret list: a hit is exactly the answer `verify`
  // gave. The token is still checked against the record's secret hash on every request.
  return memo.set(value, token);
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

// ---------------------------------------------------------------------------------------

function verify(signed: string, secrets: readonly string[]): string | undefined {
  for (const secret of secrets) {
    const token = unsign(signed, secret);
    if (token !== false) return token;
  }
  return undefined;
}
