import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sign, unsign } from 'cookie-signature';
import { LRUCache } from 'lru-cache';
import { v7 as uuidv7 } from 'uuid';

/**
 * Tokens are `<id>.<secret>.<tag>`: a UUID v7 (the public store key), 32 random bytes in base64url,
 * and an HMAC-SHA256 of the two under the server secret (cookie-signature's format). The tag makes
 * a made-up token junk before any I/O, whichever way it travels; only sha256(secret) is stored.
 */
export interface VerifiedToken {
  readonly id: string;
  readonly secret: string;
  /** The token as presented (without a legacy `s:` prefix). */
  readonly token: string;
  /** sha256 of the secret, compared with the stored hash. */
  readonly digest: Buffer;
}

export interface TokenCodec {
  /** A new token, its id and the hash of its secret (what the store keeps). */
  issue(): { token: string; id: string; secretHash: string };
  /** The token's parts when it has the exact shape and a tag one of the secrets made; `undefined` otherwise. */
  verify(presented: string): VerifiedToken | undefined;
  /** Constant-time check of the token's secret against a stored hash. */
  matches(token: VerifiedToken, secretHash: string): boolean;
}

const ID_LENGTH = 36;
const SECRET_LENGTH = 43; // 32 bytes in unpadded base64url
const TAG_LENGTH = 43; // an HMAC-SHA256 in unpadded base64
const BODY_LENGTH = ID_LENGTH + 1 + SECRET_LENGTH;
export const TOKEN_LENGTH = BODY_LENGTH + 1 + TAG_LENGTH;
const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\.[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;
/** sojourn 0.1 wrote cookies as `s:<id>.<secret>.<tag>`: still read, so an upgrade logs nobody out. */
const LEGACY_PREFIX = 's:';

/** One codec per manager: the first secret tags new tokens, every secret verifies (rotation). */
export function createTokenCodec(secrets: readonly string[]): TokenCodec {
  // An HMAC costs 5–10 µs: a warm request presents the same verified string again. Only verified
  // tokens are remembered, so junk cannot crowd them out; a hit is what verifying again would give.
  const verified = new LRUCache<string, VerifiedToken>({ max: 4096 });

  return {
    issue() {
      const id = uuidv7();
      const secret = randomBytes(32).toString('base64url');
      return { token: sign(`${id}.${secret}`, secrets[0]!), id, secretHash: sha256(secret).toString('base64url') };
    },
    verify(presented) {
      const token = presented.startsWith(LEGACY_PREFIX) ? presented.slice(LEGACY_PREFIX.length) : presented;
      if (token.length !== TOKEN_LENGTH) return undefined;
      const known = verified.get(token);
      if (known) return known;
      if (!SHAPE.test(token) || !secrets.some((secret) => unsign(token, secret) !== false)) return undefined;
      const secret = token.slice(ID_LENGTH + 1, BODY_LENGTH);
      const parsed = Object.freeze({ id: token.slice(0, ID_LENGTH), secret, token, digest: sha256(secret) });
      verified.set(token, parsed);
      return parsed;
    },
    matches(token, secretHash) {
      const expected = Buffer.from(secretHash, 'base64url');
      return expected.length === token.digest.length && timingSafeEqual(token.digest, expected);
    },
  };
}

/** What is stored of a secret (base64url) and what a presented one is compared by. */
export function hashSecret(secret: string): string {
  return sha256(secret).toString('base64url');
}

// ---------------------------------------------------------------------------------------

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
