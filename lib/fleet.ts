import { CacheChain } from './caches/chain.js';
import type { SessionChange } from './caches/types.js';
import type { SessionStore } from './stores/types.js';

/**
 * What this instance hears from the others and tells its own transports. Other instances' writes
 * and revokes, heard through a shared cache or store (Redis pub/sub), leave the in-process layers
 * (those before the first shared one) at once; revocations, heard or made here, reach the
 * listeners that close streams and sockets.
 */
export function createFleet(chain: CacheChain, store: SessionStore, cacheTtl: number, cacheTimeout: number) {
  const shared = chain.layers.findIndex((cache) => cache.subscribe);
  const local = new CacheChain(shared < 0 ? chain.layers : chain.layers.slice(0, shared), cacheTimeout);
  const revokeListeners = new Set<(ids: readonly string[]) => void>();

  function announceRevoked(ids: readonly string[]): void {
    for (const listener of revokeListeners) {
      try {
        listener(ids);
      } catch (error) {
        process.emitWarning(`a revocation listener threw: ${error instanceof Error ? error.message : String(error)}`, {
          code: 'SOJOURN_REVOKE_LISTENER',
        });
      }
    }
  }

  const heard = (change: SessionChange) => {
    if (change === 'all') return void local.clear();
    if (!change.gone) return void local.delete(change.ids);
    void local.setMissing(change.ids, cacheTtl);
    announceRevoked(change.ids);
  };
  // Listening starts with the manager, not with start(): forgetting start() must not silently
  // turn revocation across instances off.
  const listening = Promise.all([...chain.layers, store].map((source) => source.subscribe?.(heard).catch(feedFailed)));

  return {
    /** The in-process cache layers. */
    local,
    announceRevoked,
    /** Calls `listener` with revoked ids; returns the unsubscribe. */
    onRevoke(listener: (ids: readonly string[]) => void): () => void {
      revokeListeners.add(listener);
      return () => void revokeListeners.delete(listener);
    },
    /** Resolves once every feed listens (or gave up with a warning). */
    ready: listening.then(() => {}),
    async stop(): Promise<void> {
      await Promise.all((await listening).map((stop) => stop?.()));
    },
  };
}

// ---------------------------------------------------------------------------------------

function feedFailed(error: unknown): undefined {
  const reason = error instanceof Error ? error.message : String(error);
  process.emitWarning(`could not listen to other instances' session changes (${reason})`, { code: 'SOJOURN_FEED_FAILED' });
  return undefined;
}
