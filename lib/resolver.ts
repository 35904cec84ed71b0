import type { CacheChain, ChainLookup } from './caches/chain.js';
import type { ResolvedOptions } from './options.js';
import type { SessionStore } from './stores/types.js';
import { parseToken, secretMatches, type ParsedToken } from './token/codec.js';
import type { CachedSession, SessionRecord } from './types.js';
import { isPromise } from './values.js';

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

  /**
   * Answers synchronously when the first cache layer does (a warm LRU hit that needs no renewal):
   * no promise, no microtask. Anything that touches I/O returns a promise.
   */
  return function resolve(token: string): MaybePromise<Resolution | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const now = clock();
    const lookup = chain.get(parsed.id, now);
    return isPromise(lookup) ? lookup.then((found) => resolveFound(parsed, now, found)) : resolveFound(parsed, now, lookup);
  };

  function resolveFound(parsed: ParsedToken, now: number, { found, layer }: ChainLookup): MaybePromise<Resolution | undefined> {
    if (found === null) return undefined;
    return found ? verify(parsed, now, found, layer) : fromStore(parsed, now, layer);
  }

  async function fromStore(parsed: ParsedToken, now: number, layer: number): Promise<Resolution | undefined> {
    const record = await singleFlight(loading, parsed.id, () => store.get(parsed.id));
    if (!record || record.expiresAt <= now) {
      void chain.setMissing([parsed.id], cacheTtl); // never on the answer's critical path
      return undefined;
    }
    return verify(parsed, now, serialize(record), layer);
  }

  function verify(parsed: ParsedToken, now: number, session: CachedSession, layer: number): MaybePromise<Resolution | undefined> {
    // A forged secret for a real id: no renewal, no cache write, and nothing remembered as missing
    // (that would lock the real owner out).
    if (!secretMatches(parsed.secret, session.secretHash)) return undefined;
    const renewTo = Math.min(now + duration, session.absoluteExpiresAt);
    if (session.expiresAt - now < duration / 2 && renewTo > session.expiresAt) {
      return renew(session, renewTo, now).then((renewed) => renewed && { session: renewed, renewed: true });
    }
    if (layer > 0) void chain.set(session, now, layer); // a slow cache must not hold the answer up
    return { session, renewed: false };
  }

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

type MaybePromise<T> = T | Promise<T>;

// ---------------------------------------------------------------------------------------

function singleFlight<T>(inFlight: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = run().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
