import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOKEN_LENGTH, hashSecret, newToken, parseToken, secretMatches } from '../../lib/token/codec.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newToken', () => {
  it('is `<uuid v7>.<43 base64url chars>`, 80 characters', () => {
    const { token, id, secretHash } = newToken();
    expect(TOKEN_LENGTH).toBe(80);
    expect(token).toHaveLength(80);
    const [head, secret, ...rest] = token.split('.');
    expect(rest).toEqual([]);
    expect(head).toBe(id);
    expect(id).toMatch(UUID_V7);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret!, 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(createHash('sha256').update(secret!).digest('base64url'));
  });

  it('parses back into its own id and secret', () => {
    const { token, id } = newToken();
    expect(parseToken(token)).toEqual({ id, secret: token.slice(37) });
  });

  it('never repeats, and its ids are time-ordered', () => {
    const tokens = Array.from({ length: 200 }, () => newToken());
    expect(new Set(tokens.map((t) => t.token)).size).toBe(200);
    expect(new Set(tokens.map((t) => t.secretHash)).size).toBe(200);
    const ids = tokens.map((t) => t.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('never stores the secret: the hash differs from it', () => {
    const { token, secretHash } = newToken();
    expect(token).not.toContain(secretHash);
  });
});

describe('parseToken', () => {
  const { token } = newToken();
  const id = token.slice(0, 36);
  const secret = token.slice(37);

  it('accepts a well-formed token', () => {
    expect(parseToken(token)).toEqual({ id, secret });
  });

  it.each([
    ['empty', ''],
    ['one char short', token.slice(0, -1)],
    ['one char long', `${token}A`],
    ['wrong separator', `${id}:${secret}`],
    ['no separator, padded', `${id}${secret}A`],
    ['a uuid v4 id', `${id.slice(0, 14)}4${id.slice(15)}.${secret}`],
    ['a bad uuid variant', `${id.slice(0, 19)}c${id.slice(20)}.${secret}`],
    ['an uppercase id', `${id.toUpperCase()}.${secret}`],
    ['a non-hex id', `${id.slice(0, 35)}g.${secret}`],
    ['a standard-base64 secret', `${id}.${secret.slice(0, 10)}+${secret.slice(11)}`],
    ['a padded secret', `${id}.${secret.slice(0, 42)}=`],
    ['a last char that carries padding bits', `${id}.${secret.slice(0, 42)}B`],
    ['a leading space', ` ${token.slice(1)}`],
    ['surrounding whitespace', ` ${token} `],
    ['a trailing newline', `${token}\n`],
    ['a trailing newline in place of the last char', `${token.slice(0, -1)}\n`],
  ])('rejects %s', (_, candidate) => {
    expect(parseToken(candidate)).toBeUndefined();
  });

  it('accepts every last char that ends 32 bytes exactly, and no other', () => {
    const head = `${id}.${secret.slice(0, 42)}`;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...alphabet].filter((c) => parseToken(head + c) !== undefined).join('');
    expect(accepted).toBe('AEIMQUYcgkosw048');
    // Exactly those round-trip through 32 bytes.
    for (const c of alphabet) {
      const roundTrips = Buffer.from(secret.slice(0, 42) + c, 'base64url').toString('base64url') === secret.slice(0, 42) + c;
      expect(roundTrips).toBe(accepted.includes(c));
    }
  });
});

describe('hashSecret', () => {
  it('is sha256 in base64url (43 characters, no padding)', () => {
    expect(hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
    const { token, secretHash } = newToken();
    expect(hashSecret(token.slice(37))).toBe(secretHash);
    expect(secretHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('secretMatches', () => {
  const { token, secretHash } = newToken();
  const secret = token.slice(37);

  it('is true for the secret the hash was made from', () => {
    expect(secretMatches(secret, secretHash)).toBe(true);
  });

  it('is false for a secret one character off', () => {
    const off = secret.slice(0, 20) + (secret[20] === 'A' ? 'B' : 'A') + secret.slice(21);
    expect(secretMatches(off, secretHash)).toBe(false);
  });

  it('is false against a hash one character off', () => {
    const off = secretHash.slice(0, 5) + (secretHash[5] === 'A' ? 'B' : 'A') + secretHash.slice(6);
    expect(secretMatches(secret, off)).toBe(false);
  });

  it('is false (does not throw) for a hash of the wrong length', () => {
    expect(secretMatches(secret, secretHash.slice(0, 20))).toBe(false);
    expect(secretMatches(secret, `${secretHash}AAAA`)).toBe(false);
    expect(secretMatches(secret, '')).toBe(false);
  });

  it('is false when the stored value is the secret itself rather than its hash', () => {
    expect(secretMatches(secret, secret)).toBe(false);
  });
});
