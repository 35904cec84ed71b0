import type { CacheChain } from './caches/chain.js';
import type { ResolvedOptions } from './options.js';
import type { SessionStore } from './stores/types.js';
import { parseToken, secretMatches } from './token/codec.js';
import type { CachedSession, SessionRecord } from './types.js';

export interface Resolution {
  readonly session: CachedSession;
  /** The idle expiry moved forward: cookies should carry the new Max-Age. */
  readonly renewed: boolean;
}

export interface ResolverParts {
  readonly options: ResolvedOptions;
  readonly chain: CacheChain;
  /** The store, its failures already wrapped in SessionStoreError. */
  readonly store: SessionStore;
  readonly serialize: (record: SessionRecord) => CachedSession;
}

/**
 * Token → session: the shape check (no I/O for junk), each cache layer in order, then the store.
 * Concurrent lookups of one id share one store read, and a burst of requests due for renewal
 * shares one renewal write.
 */
export function createResolver({ options, chain, store, serialize }: ResolverParts) {
  const { clock, duration, cacheTtl } = options;
  const loading = new Map<string, Promise<SessionRecord | undefined>>();
  const renewing = new Map<string, Promise<CachedSession | undefined>>();

  return async function resolve(token: string): Promise<Resolution | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const now = clock();
    const { found, layer } = await chain.get(parsed.id, (entry) => entry.cacheExpiry > now && entry.expiresAt > now);
    if (found === null) return undefined;
    let session = found;
    if (!session) {
      const record = await singleFlight(loading, parsed.id, () => store.get(parsed.id));
      if (!record || record.expiresAt <= now) {
        void chain.setMissing([parsed.id], cacheTtl); // never on the answer's critical path
        return undefined;
      }
      session = serialize(record);
    }
    // A forged secret for a real id: no renewal, no cache write, and nothing remembered as missing
    // (that would lock the real owner out).
    if (!secretMatches(parsed.secret, session.secretHash)) return undefined;
    const renewTo = Math.min(now + duration, session.absoluteExpiresAt);
    if (session.expiresAt - now < duration / 2 && renewTo > session.expiresAt) {
      const renewed = await renew(session, renewTo, now);
      return renewed && { session: renewed, renewed: true };
    }
    if (layer > 0) void chain.set(session, now, layer); // a slow cache must not hold the answer up
    return { session, renewed: false };
  };

  /** Slides the idle expiry forward to `expiresAt`; one write per burst. */
  function renew(session: CachedSession, expiresAt: number, now: number): Promise<CachedSession | undefined> {
    return singleFlight(renewing, session.id, async () => {
      const record = await store.update(session.id, { expiresAt, updatedAt: now });
      if (!record) {
        await chain.setMissing([session.id], cacheTtl);
        return undefined;
      }
      const renewed = serialize(record);
      void chain.set(renewed, now);
      return renewed;
    });
  }
}

export type Resolver = ReturnType<typeof createResolver>;

// ---------------------------------------------------------------------------------------

function singleFlight<T>(inFlight: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = run().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
