import type { CacheChain, ChainLookup } from './caches/chain.js';
import type { CacheLookup } from './caches/types.js';
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
 * Concurrent lookups of one id share one fetch (shared cache layers and the store are asked once
 * per burst, not once per request), and a burst of requests due for renewal shares one renewal
 * write. The secret is checked for every request.
 */
export function createResolver({ options, chain, store, serialize }: ResolverParts) {
  const { clock, duration, cacheTtl } = options;
  const fetching = new Map<string, Promise<Fetched>>();
  const renewing = new Map<string, Promise<CachedSession | undefined>>();

  /**
   * Answers synchronously when the first cache layer does (a warm LRU hit that needs no renewal):
   * no promise, no microtask. Anything that touches I/O returns a promise.
   */
  return function resolve(token: string): MaybePromise<Resolution | undefined> {
    const parsed = parseToken(token);
    if (!parsed) return undefined;
    const now = clock();
    let pending = fetching.size > 0 ? fetching.get(parsed.id) : undefined;
    if (!pending) {
      const lookup = chain.get(parsed.id, now);
      if (!isPromise(lookup) && lookup.found !== undefined) return verify(parsed, now, lookup.found, lookup.layer);
      pending = singleFlight(fetching, parsed.id, () => finishLookup(parsed.id, now, lookup));
    }
    return pending.then((burst) => verify(parsed, now, burst.found, burst.layer, burst));
  };

  /** The rest of a lookup the in-process layers could not answer: the shared layers, then the store. */
  async function finishLookup(id: string, now: number, lookup: MaybePromise<ChainLookup>): Promise<Fetched> {
    const cached = await lookup;
    if (cached.found !== undefined) return { ...cached, backFilled: false };
    const record = await store.get(id);
    if (!record || record.expiresAt <= now) {
      void chain.setMissing([id], cacheTtl); // never on the answer's critical path
      return { found: null, layer: cached.layer, backFilled: false };
    }
    return { found: serialize(record), layer: cached.layer, backFilled: false };
  }

  /** `session` was found in `layer`; `burst` when the lookup was shared (the layers before are back-filled once). */
  function verify(parsed: ParsedToken, now: number, session: CacheLookup, layer: number, burst?: Fetched): MaybePromise<Resolution | undefined> {
    // A forged secret for a real id: no renewal, no cache write, and nothing remembered as missing
    // (that would lock the real owner out).
    if (!session || !secretMatches(parsed.secret, session.secretHash)) return undefined;
    const renewTo = Math.min(now + duration, session.absoluteExpiresAt);
    if (session.expiresAt - now < duration / 2 && renewTo > session.expiresAt) {
      return renew(session, renewTo, now).then((renewed) => renewed && { session: renewed, renewed: true });
    }
    if (layer > 0 && !burst?.backFilled) {
      if (burst) burst.backFilled = true;
      void chain.set(session, now, layer); // a slow cache must not hold the answer up
    }
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

/** What the caches, then the store, held for an id, shared by the requests of a burst. */
interface Fetched extends ChainLookup {
  /** The layers before `layer` were given the session (by the burst's first verified request). */
  backFilled: boolean;
}

// ---------------------------------------------------------------------------------------

function singleFlight<T>(inFlight: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = run().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
