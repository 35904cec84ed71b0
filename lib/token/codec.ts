import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { Memo } from '../memo.js';

/**
 * Tokens are `<id>.<secret>`: a UUID v7 (the public store key) and 32 random bytes in base64url.
 * Only sha256(secret) is ever stored, so a leaked store or cache dump yields no usable token.
 */
export interface ParsedToken {
  readonly id: string;
  readonly secret: string;
}

const ID_LENGTH = 36;
const SECRET_LENGTH = 43; // 32 bytes in unpadded base64url
export const TOKEN_LENGTH = ID_LENGTH + 1 + SECRET_LENGTH;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BASE64URL_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/; // last char carries 2 bits of padding

export function newToken(): { token: string; id: string; secretHash: string } {
  const id = uuidv7();
  const secret = randomBytes(32).toString('base64url');
  return { token: `${id}.${secret}`, id, secretHash: hashSecret(secret) };
}

/** The token's parts, or `undefined` for anything not shaped exactly like a token (no I/O). */
export function parseToken(token: string): ParsedToken | undefined {
  if (token.length !== TOKEN_LENGTH || token.charCodeAt(ID_LENGTH) !== 46 /* . */) return undefined;
  const known = parsed.get(token);
  if (known !== undefined) return known;
  const id = token.slice(0, ID_LENGTH);
  const secret = token.slice(ID_LENGTH + 1);
  if (!UUID_V7.test(id) || !BASE64URL_32.test(secret)) return undefined;
  return parsed.set(token, Object.freeze({ id, secret }));
}

export function hashSecret(secret: string): string {
  return sha256(secret).toString('base64url');
}

/**
 * Constant-time check of a presented secret against the stored hash, on every lookup. Only pure
 * functions are remembered (the presented secret's sha256, the stored hash decoded): the
 * comparison with the record's current hash is never skipped.
 */
export function secretMatches(secret: string, secretHash: string): boolean {
  const expected = decoded.get(secretHash) ?? decoded.set(secretHash, Buffer.from(secretHash, 'base64url'));
  const actual = digests.get(secret) ?? digests.set(secret, sha256(secret));
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------------------------------

/** What is stored of a secret (as base64url) and what a presented one is compared by: one definition for both. */
function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

// A warm request presents the same token string (from the cookie memo) and meets the same cached
// record: each of these is one Map lookup instead of two regexes, a hash and a base64 decode.
const MEMO_MAX = 1024;
const parsed = new Memo<ParsedToken>(MEMO_MAX);
const digests = new Memo<Buffer>(MEMO_MAX);
const decoded = new Memo<Buffer>(MEMO_MAX);
