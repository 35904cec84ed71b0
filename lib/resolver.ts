import type { CacheChain } from './caches/chain.js';
import type { Coherence } from './coherence.js';
import { lastSeenDue } from './device.js';
import { renewedExpiry } from './expiry.js';
import type { ResolvedOptions } from './options.js';
import type { SessionStore } from './stores/types.js';
import type { TokenCodec, VerifiedToken } from './token/codec.js';
import type { CachedSession, SessionRecord } from './types.js';

export interface Resolution {
  readonly session: CachedSession;
  /** The idle expiry moved forward: cookies should carry the new Max-Age. */
  readonly renewed: boolean;
  /** Replaced by a login or a rotation, within its grace window: honoured for nothing, cleared for nothing. */
  readonly superseded: boolean;
}

export interface ResolverParts {
  readonly options: ResolvedOptions;
  readonly chain: CacheChain;
  /** The store, its failures already wrapped in SessionStoreError. */
  readonly store: SessionStore;
  readonly codec: TokenCodec;
  readonly coherence: Coherence;
  /** How many layers of `chain` are in-process (they come first). */
  readonly localLayers: number;
  readonly serialize: (record: SessionRecord, now: number) => CachedSession;
}

/** What the caches, then the store, held for an id; shared by the lookups of a burst. */
interface Fetched {
  readonly found: CachedSession | null;
  readonly layer: number;
  /** The layers before `layer` were given the session (by the burst's first verified lookup). */
  backFilled: boolean;
}

/**
 * Token → session: each cache layer in order, then the store. Concurrent lookups of one id share
 * one fetch (shared layers and the store are asked once per burst), and a burst due for renewal
 * (or a `lastSeenAt` write) shares one write. The secret is checked on every lookup. A change heard
 * for an id drops its fetch in flight, so no lookup started after a revoke joins one started before it.
 */
export function createResolver({ options, chain, store, codec, coherence, localLayers, serialize }: ResolverParts) {
  const { clock } = options;
  const fetching = new Map<string, Promise<Fetched>>();
  const renewing = new Map<string, Promise<CachedSession | undefined>>();

  coherence.onChange((change) => {
    if (change.kind === 'all') fetching.clear();
    else for (const id of change.ids) fetching.delete(id);
  });

  async function fetch(id: string, now: number): Promise<Fetched> {
    const { found, layer } = await chain.get(id, now, coherence.trusted ? 0 : localLayers);
    if (found !== undefined) return { found, layer, backFilled: false };
    const record = await store.get(id);
    if (record && record.expiresAt > now) return { found: serialize(record, now), layer, backFilled: false };
    void chain.setMissing([id], now + options.cacheTtl, now); // never on the answer's critical path
    return { found: null, layer, backFilled: false };
  }

  /** Writes `lastSeenAt`, and slides the idle expiry forward to `expiresAt` when given; one write per burst. */
  function renew(session: CachedSession, expiresAt: number | undefined, now: number): Promise<CachedSession | undefined> {
    return singleFlight(renewing, session.id, async () => {
      const record = await store.update(session.id, { ...(expiresAt === undefined ? {} : { expiresAt }), lastSeenAt: now, updatedAt: now });
      if (!record) {
        await chain.setMissing([session.id], now + options.cacheTtl, now);
        return undefined;
      }
      const renewed = serialize(record, now);
      void chain.set(renewed, now);
      return renewed;
    });
  }

  /** Back-fills the layers before the one that answered, once per burst, unless a newer version was heard of meanwhile. */
  function backFill(fetched: Fetched, session: CachedSession, now: number): void {
    if (fetched.layer === 0 || fetched.backFilled) return;
    fetched.backFilled = true;
    if (coherence.outdated(session.id, session.version)) return;
    void chain.set(session, now, fetched.layer, coherence.trusted ? 0 : localLayers); // a slow cache must not hold the answer up
  }

  return async function resolve(token: VerifiedToken): Promise<Resolution | undefined> {
    const now = clock();
    const fetched = await singleFlight(fetching, token.id, () => fetch(token.id, now));
    const session = fetched.found;
    // A forged secret for a real id: no renewal, no cache write, and nothing remembered as missing
    // (that would lock the real owner out).
    if (!session || !codec.matches(token, session.secretHash)) return undefined;
    if (session.supersededUntil !== undefined) return { session, renewed: false, superseded: true };
    const renewTo = renewedExpiry(session, now, options);
    if (renewTo !== undefined || lastSeenDue(session, now, options.device)) {
      const renewed = await renew(session, renewTo, now);
      return renewed && { session: renewed, renewed: renewTo !== undefined, superseded: false };
    }
    backFill(fetched, session, now);
    return { session, renewed: false, superseded: false };
  };
}

export type Resolver = ReturnType<typeof createResolver>;

// ---------------------------------------------------------------------------------------

function singleFlight<T>(inFlight: Map<string, Promise<T>>, key: string, run: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = run().finally(() => {
      if (inFlight.get(key) === pending) inFlight.delete(key);
    });
    inFlight.set(key, pending);
  }
  return pending;
}
