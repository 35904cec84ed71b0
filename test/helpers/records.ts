import { createTokenCodec } from '../../lib/token/codec.js';
import type { CachedSession, SessionRecord } from '../../lib/types.js';

/** The secret test tokens are tagged with, and a codec that issues and verifies them. */
export const TEST_SECRET = 'a test secret of at least thirty-two bytes';
export const testCodec = createTokenCodec([TEST_SECRET]);

/** The fixed base time of test records: stores never read a clock, so tests pass times in. */
export const T0 = Date.UTC(2026, 0, 1);
export const DAY = 86_400_000;

/**
 * A valid record: fresh UUID v7 id and secret hash, version 1, empty data bag, created at `T0`,
 * idle expiry 30 days and absolute expiry 365 days later. `overrides` win.
 */
export function makeRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  // Minting a token costs a hash; skip it when the caller brings both (bulk tests make 100k records).
  const minted = overrides.id !== undefined && overrides.secretHash !== undefined ? undefined : testCodec.issue();
  return {
    id: minted?.id ?? '',
    secretHash: minted?.secretHash ?? '',
    version: 1,
    data: {},
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 30 * DAY,
    absoluteExpiresAt: T0 + 365 * DAY,
    ...overrides,
  };
}

/** A record as caches hold it, fresh for 5 minutes after `T0`. */
export function makeCachedSession(overrides: Partial<CachedSession> = {}): CachedSession {
  return { ...makeRecord(overrides), cacheExpiry: T0 + 5 * 60_000, ...overrides };
}
