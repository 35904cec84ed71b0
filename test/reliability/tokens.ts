/**
 * fast-check arbitraries for everything a client can present as a session token. The shape of a
 * valid token is restated here from DESIGN.md (`<uuid v7>.<32 bytes base64url>.<HMAC-SHA256 tag>`),
 * independently of lib/token/codec.ts, so the generators are checked against the contract, not
 * against themselves.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';

/** A whole string shaped like a token (the contract, not the codec's regex). */
export const TOKEN_SHAPE =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\.[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

/** `<id>.<secret>` with its tag under `key`: HMAC-SHA256, base64 without padding (cookie-signature's format). */
export function tag(body: string, key: string): string {
  return `${body}.${createHmac('sha256', key).update(body).digest('base64').replace(/=+$/, '')}`;
}

const HEX = [...'0123456789abcdef'];
const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const LAST = [...'AEIMQUYcgkosw048'];
/** Characters that are valid in no part of a token. */
const NEVER = [...'=%~!"\\,*()[]{}<>?@#$&^`|:\u00e9\u00ff\u0080'];

const chars = (alphabet: string[], length: number) => fc.string({ unit: fc.constantFrom(...alphabet), minLength: length, maxLength: length });

/** `<id>.<secret>` bodies built by fast-check (shrinkable; biased towards small ids). */
const body = fc
  .tuple(chars(HEX, 8), chars(HEX, 4), chars(HEX, 3), fc.constantFrom('8', '9', 'a', 'b'), chars(HEX, 3), chars(HEX, 12), chars(B64URL, 42), fc.constantFrom(...LAST))
  .map(([a, b, c, variant, d, e, secret, last]) => `${a}-${b}-7${c}-${variant}${d}-${e}.${secret}${last}`);

/** Tokens of the exact shape with a tag under some other key: made up, junk before any I/O. */
export const shapedToken = fc.tuple(body, fc.string({ minLength: 1, maxLength: 20 })).map(([b, key]) => tag(b, `guess:${key}`));

/** Tokens the server could have issued (tagged under `secret`) that no store knows: at most one store read. */
export function unknownToken(secret: string): fc.Arbitrary<string> {
  return fc.oneof(body.map((b) => tag(b, secret)), fc.nat().map(() => tag(`${uuidv7()}.${randomBytes(32).toString('base64url')}`, secret)));
}

/** Maps any string onto what an HTTP/1.1 header value may carry (tab, printable ASCII, Latin-1 high bytes). */
export function headerSafe(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    out += code === 9 || (code >= 0x20 && code <= 0x7e) || (code >= 0x80 && code <= 0xff) ? ch : String.fromCharCode(0x20 + (code % 0x5f));
  }
  return out;
}

/** Everything that, trimmed, is not a token: every wrong shape, including near misses of a real one. */
export function malformedToken(base: fc.Arbitrary<string> = shapedToken): fc.Arbitrary<string> {
  const at = (token: string, i: number, ch: string) => token.slice(0, i) + ch + token.slice(i + 1);
  return fc
    .oneof(
      fc.string({ maxLength: 120 }),
      fc.string({ unit: 'binary', maxLength: 120 }).map(headerSafe),
      fc.tuple(base, fc.nat(123), fc.constantFrom(...NEVER)).map(([t, i, ch]) => at(t, i, ch)),
      fc.tuple(base, fc.nat(123)).map(([t, k]) => t.slice(0, k)),
      fc.tuple(base, fc.string({ unit: fc.constantFrom(...B64URL, '.', '='), minLength: 1, maxLength: 12 })).map(([t, extra]) => t + extra),
      base.map((t) => t.toUpperCase()),
      fc.tuple(base, fc.constantFrom(...'012345689abcdef')).map(([t, v]) => at(t, 14, v)),
      fc.tuple(base, fc.constantFrom(...'01234567cdef')).map(([t, v]) => at(t, 19, v)),
      fc.tuple(base, fc.constantFrom(...B64URL.filter((c) => !LAST.includes(c)))).map(([t, c]) => at(t, 79, c)),
      base.map((t) => `${t}=`),
      base.map((t) => at(t, 36, '_')),
      base.map((t) => t.replace('.', '..').slice(0, 124)),
      base.map((t) => t.slice(0, 80)), // sojourn 0.1's untagged token
      base.map((t) => t.slice(37) + '.' + t.slice(0, 36)),
      base.map((t) => Buffer.from(t).toString('base64')),
      fc.tuple(fc.constantFrom('A', '0', '.', '-', '%41'), fc.integer({ min: 125, max: 8_000 })).map(([c, n]) => c.repeat(n)),
      fc.tuple(base, fc.integer({ min: 2, max: 50 })).map(([t, n]) => t.repeat(n)),
      fc.constantFrom('', ' ', 'null', 'undefined', '[object Object]', '0', '-1', 'true', '\t', '..', 's:', 'Bearer'),
    )
    .filter((value) => !TOKEN_SHAPE.test(value.trim()));
}

/** Another secret for a real id, under the real id's tag: the tag no longer matches (junk). */
export function forge(token: string, secret: string = randomBytes(32).toString('base64url')): string {
  return `${token.slice(0, 36)}.${secret}${token.slice(80)}`;
}

/** Another secret for a real id, tagged under `key`: only the holder of the server secret could make it. */
export function forgeTagged(token: string, key: string, secret: string = randomBytes(32).toString('base64url')): string {
  return tag(`${token.slice(0, 36)}.${secret}`, key);
}

/** The secret part of a token: what must never be echoed or stored. */
export const secretOf = (token: string) => token.slice(37, 80);
