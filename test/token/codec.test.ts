import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOKEN_LENGTH, createTokenCodec, hashSecret } from '../../lib/token/codec.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const codec = createTokenCodec(['current secret', 'retired secret']);

describe('issue', () => {
  it('is `<uuid v7>.<43 base64url chars>.<43 base64 chars>`, 124 characters, tagged under the first secret', () => {
    const { token, id, secretHash } = codec.issue();
    expect(TOKEN_LENGTH).toBe(124);
    expect(token).toHaveLength(124);
    const [head, secret, tag, ...rest] = token.split('.');
    expect(rest).toEqual([]);
    expect(head).toBe(id);
    expect(id).toMatch(UUID_V7);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(createHash('sha256').update(secret!).digest('base64url'));
    // cookie-signature's format: HMAC-SHA256 of `<id>.<secret>`, base64 without padding.
    expect(tag).toBe(createHmac('sha256', 'current secret').update(`${id}.${secret}`).digest('base64').replace(/=+$/, ''));
  });

  it('verifies back into its own id and secret', () => {
    const { token, id } = codec.issue();
    expect(codec.verify(token)).toMatchObject({ id, secret: token.slice(37, 80), token });
  });

  it('never repeats, and its ids are time-ordered', () => {
    const tokens = Array.from({ length: 200 }, () => codec.issue());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(200);
    expect(new Set(tokens.map((t) => t.secretHash)).size).toBe(200);
    const ids = tokens.map((t) => t.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('never stores the secret: the hash differs from it', () => {
    const { token, secretHash } = codec.issue();
    expect(token).not.toContain(secretHash);
  });
});

describe('verify', () => {
  const { token } = codec.issue();
  const [id, secret, tag] = token.split('.') as [string, string, string];
  const retag = (body: string, key = 'current secret') => `${body}.${createHmac('sha256', key).update(body).digest('base64').replace(/=+$/, '')}`;

  it('accepts a token tagged under any of the secrets (rotation)', () => {
    expect(codec.verify(token)?.id).toBe(id);
    expect(codec.verify(retag(`${id}.${secret}`, 'retired secret'))?.id).toBe(id);
  });

  it("accepts sojourn 0.1's cookie value `s:<token>`, so an upgrade logs nobody out", () => {
    expect(codec.verify(`s:${token}`)?.token).toBe(token);
  });

  it.each([
    ['empty', ''],
    ['one char short', token.slice(0, -1)],
    ['one char long', `${token}A`],
    ['a made-up token of the exact shape (no secret tagged it)', retag(`${id}.${secret}`, 'guessed secret')],
    ['a forged tag, one character off', `${token.slice(0, -2)}${token.at(-2) === 'A' ? 'B' : 'A'}${token.at(-1)}`],
    ['another secret under a valid tag', `${id}.${secret.slice(0, 10)}${secret[10] === 'A' ? 'B' : 'A'}${secret.slice(11)}.${tag}`],
    ['sojourn 0.1 bearer token (no tag)', `${id}.${secret}`],
    ['wrong separator', `${id}:${secret}.${tag}`],
    ['a uuid v4 id', retag(`${id.slice(0, 14)}4${id.slice(15)}.${secret}`)],
    ['an uppercase id', retag(`${id.toUpperCase()}.${secret}`)],
    ['a padded secret', retag(`${id}.${secret.slice(0, 42)}=`)],
    ['a last char that carries padding bits', retag(`${id}.${secret.slice(0, 42)}B`)],
    ['surrounding whitespace', ` ${token} `],
    ['a trailing newline', `${token}\n`],
  ])('refuses %s', (_, candidate) => {
    expect(codec.verify(candidate)).toBeUndefined();
  });

  it('a tag made under a secret the codec does not have is refused', () => {
    expect(createTokenCodec(['other']).verify(token)).toBeUndefined();
  });
});

describe('hashSecret and matches', () => {
  const { token, secretHash } = codec.issue();
  const verified = codec.verify(token)!;

  it('hashSecret is sha256 in base64url (43 characters, no padding)', () => {
    expect(hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    expect(hashSecret(verified.secret)).toBe(secretHash);
  });

  it('is true for the secret the hash was made from', () => {
    expect(codec.matches(verified, secretHash)).toBe(true);
  });

  it('is false against a hash one character off', () => {
    const off = secretHash.slice(0, 5) + (secretHash[5] === 'A' ? 'B' : 'A') + secretHash.slice(6);
    expect(codec.matches(verified, off)).toBe(false);
  });

  it('is false (does not throw) for a hash of the wrong length', () => {
    expect(codec.matches(verified, secretHash.slice(0, 20))).toBe(false);
    expect(codec.matches(verified, `${secretHash}AAAA`)).toBe(false);
    expect(codec.matches(verified, '')).toBe(false);
  });

  it('is false when the stored value is the secret itself rather than its hash', () => {
    expect(codec.matches(verified, verified.secret)).toBe(false);
  });
});
