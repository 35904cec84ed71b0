import type { Coherence } from './coherence.js';
import type { CacheChain } from './caches/chain.js';
import { topics } from './messages/topics.js';
import type { ResolvedOptions } from './options.js';
import type { Records } from './records.js';
import type { SessionStore } from './stores/types.js';
import type { Id, SessionSummary, SessionUser } from './types.js';
import { idOf, jsonCopy } from './values.js';

/** A new user snapshot: an object merged shallowly into each session's, or a function whose result replaces it. */
export type UserUpdate = Partial<SessionUser> | ((user: SessionUser) => SessionUser);

interface UserParts {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly chain: CacheChain;
  readonly coherence: Coherence;
  readonly records: Records;
}

/** What acts on all of one user's sessions, found through the store's user index (device lists, sign out everywhere). */
export function createUserSessions({ options, store, chain, coherence, records }: UserParts) {
  return {
    /** Signs the user out everywhere (or everywhere but `except`, a session id); returns the ids revoked. */
    async deleteSessionsByUser(userId: Id, { except }: { except?: string } = {}): Promise<string[]> {
      const user = idOf(userId, 'the user id');
      let ids: string[];
      if (except === undefined) ids = await records.revoked(await store.deleteByUser(user));
      else {
        const others = (await store.listByUser(user)).filter((record) => record.id !== except).map((record) => record.id);
        const deleted = await Promise.all(others.map(async (id) => ((await store.delete(id)) ? id : undefined)));
        ids = await records.revoked(deleted.filter((id): id is string => id !== undefined));
      }
      if (ids.length > 0) await records.publishQuietly(topics.user(user), { type: 'revoked', sessionIds: ids });
      return ids;
    },

    /** The user's live sessions, newest first (device lists). */
    async listSessionsByUser(userId: Id): Promise<SessionSummary[]> {
      const now = options.clock();
      const listed = await store.listByUser(userId);
      return listed
        .filter((record) => record.expiresAt > now && record.supersededUntil === undefined)
        .sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1))
        .map(({ secretHash: _hash, ...summary }) => summary);
    },

    /** Every live session of the user sees the new snapshot, on every instance, before this resolves; returns how many. */
    async updateUser(userId: Id, update: UserUpdate): Promise<number> {
      if (typeof update !== 'function' && (typeof update !== 'object' || update === null)) {
        throw new TypeError('sojourn: updateUser takes an object to merge into the user, or a function returning the new user');
      }
      const listed = await store.listByUser(idOf(userId, 'the user id'));
      const written = await records.updateEach(listed, (record) => {
        if (record.user === undefined) return undefined;
        const next = jsonCopy(typeof update === 'function' ? update(record.user) : { ...record.user, ...update }, 'the updated user');
        if (next?.id !== record.user.id) throw new TypeError("sojourn: updateUser cannot change the user's id");
        return { user: next };
      });
      return written.length;
    },

    /** Drops the user's sessions from every cache on every instance; the next use reads the store. */
    async invalidateUser(userId: Id): Promise<void> {
      const listed = await store.listByUser(userId);
      if (listed.length === 0) return;
      await chain.delete(listed.map((record) => record.id));
      await coherence.announce({ kind: 'write', ids: listed.map((r) => r.id), versions: listed.map((r) => r.version) });
    },
  };
}
