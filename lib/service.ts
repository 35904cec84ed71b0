import type { CacheChain } from './caches/chain.js';
import type { Coherence } from './coherence.js';
import { reason, warn } from './environment.js';
import { SessionDataError } from './errors.js';
import type { MessageHub } from './messages/session.js';
import { topics } from './messages/topics.js';
import type { OpenSessions } from './open-sessions.js';
import type { ResolvedOptions } from './options.js';
import { createResolver, type Resolution } from './resolver.js';
import { Session, sessionControl, type SessionBinding } from './session.js';
import type { SessionPatch, SessionStore } from './stores/types.js';
import type { TokenCodec, VerifiedToken } from './token/codec.js';
import type { CachedSession, Id, IdOrEntity, SessionKind, SessionRecord, SessionSummary, SessionUser } from './types.js';
import { deepFreeze, idOf, jsonCopy, patchedDataBytes } from './values.js';

export interface ServiceParts {
  readonly options: ResolvedOptions;
  /** The store, its failures wrapped in `SessionStoreError`. */
  readonly store: SessionStore;
  readonly chain: CacheChain;
  /** How many layers of `chain` are in-process (they come first). */
  readonly localLayers: number;
  readonly codec: TokenCodec;
  readonly coherence: Coherence;
  readonly messages: MessageHub;
  readonly open: OpenSessions;
}

type Created = { token: string; session: CachedSession };

/** The service's members: what `SessionManager` shows users, and what sessions and frameworks use. */
export interface SessionService {
  readonly options: ResolvedOptions;
  readonly messages: MessageHub;
  /** Issues and verifies this manager's tokens. */
  readonly codec: TokenCodec;
  resolve(token: VerifiedToken): Promise<Resolution | undefined>;
  createAnonymousSession(): Promise<Created>;
  createNewAuthenticatedSession(user: SessionUser, strategyName: string, options?: { from?: CachedSession }): Promise<Created>;
  /** The session behind a token, or `undefined` for junk, unknown, forged, expired or destroyed ones. */
  getSessionFromToken(token: string): Promise<CachedSession | undefined>;
  serializeSession(record: SessionRecord): CachedSession;
  /** A field-level write; `undefined` when the record is gone (it is never recreated). */
  update(session: CachedSession, patch: Omit<SessionPatch, 'updatedAt'>): Promise<CachedSession | undefined>;
  setActiveOrder(session: CachedSession, order: IdOrEntity): Promise<CachedSession | undefined>;
  unsetActiveOrder(session: CachedSession): Promise<CachedSession | undefined>;
  setActiveChannel(session: CachedSession, channel: IdOrEntity): Promise<CachedSession | undefined>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessionsByUser(userId: Id): Promise<string[]>;
  deleteSessionsByActiveOrderId(orderId: Id): Promise<string[]>;
  listSessionsByUser(userId: Id): Promise<SessionSummary[]>;
  /** Empties every cache on every instance (roles or channels changed). */
  clearCache(): Promise<void>;
  /** Drops the user's sessions from every cache on every instance; the next use reads the store. */
  invalidateUser(userId: Id): Promise<void>;
  /** An internal session the caller must close (`await using`, or try/finally). */
  createSession(options?: { token?: string; kind?: SessionKind }): Promise<Session>;
  /** Opens a session, runs `fn`, closes it (with the error if `fn` threw) and returns `fn`'s value. */
  withSession<T>(fn: (session: Session) => T | Promise<T>, options?: { token?: string; kind?: SessionKind }): Promise<T>;
  /** A session bound to a transport (frameworks, tasks). */
  open(kind: SessionKind, binding: SessionBinding): Session;
  /** The record as the store holds it now, past every cache (task sessions). */
  load(id: string): Promise<SessionRecord | undefined>;
  /** Calls `listener` with the ids of sessions revoked here or on another instance; returns the unsubscribe. */
  onRevoke(listener: (ids: readonly string[]) => void): () => void;
  opened(session: Session): void;
  closed(session: Session): void;
}

/**
 * The session service (Vendure's SessionService): records, writes and revokes, on the store, the
 * caches and the fleet. `Session` calls it directly; the manager hands its public part to users.
 */
export function createSessionService({ options, store, chain, localLayers, codec, coherence, messages, open }: ServiceParts): SessionService {
  const { clock, cacheTtl, duration, absoluteDuration } = options;
  const revokeListeners = new Set<(ids: readonly string[]) => void>();

  function serializeSession(record: SessionRecord, now = clock()): CachedSession {
    return deepFreeze({ ...record, cacheExpiry: Math.min(now + cacheTtl, record.expiresAt) });
  }

  const resolve = createResolver({ options, chain, store, codec, coherence, localLayers, serialize: serializeSession });

  coherence.onChange((change) => {
    if (change.kind !== 'gone' || revokeListeners.size === 0) return;
    for (const listener of revokeListeners) {
      try {
        listener(change.ids);
      } catch (error) {
        warn('SOJOURN_REVOKE_LISTENER', `a revocation listener threw: ${reason(error)}`);
      }
    }
  });

  async function createRecord(fields: Partial<SessionRecord>): Promise<Created> {
    const now = clock();
    const { token, id, secretHash } = codec.issue();
    const record: SessionRecord = {
      data: {},
      ...fields,
      id,
      secretHash,
      version: 1,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + duration,
      absoluteExpiresAt: now + absoluteDuration,
    };
    await store.create(record);
    const session = serializeSession(record, now);
    await chain.set(session, now);
    return { token, session };
  }

  async function update(session: CachedSession, patch: Omit<SessionPatch, 'updatedAt'>): Promise<CachedSession | undefined> {
    if ((patch.set || patch.unset) && patchedDataBytes(session.data, patch) > options.maxDataBytes) {
      throw new SessionDataError(`session data would exceed maxDataBytes (${options.maxDataBytes})`, 'ERR_SESSION_DATA_TOO_LARGE');
    }
    const now = clock();
    const record = await store.update(session.id, { ...patch, updatedAt: now });
    if (!record) {
      await chain.setMissing([session.id], now + cacheTtl, now); // revoked elsewhere: that instance told the fleet
      return undefined;
    }
    const next = serializeSession(record, now);
    await chain.set(next, now);
    await coherence.announce({ kind: 'write', ids: [next.id], versions: [next.version] });
    return next;
  }

  /** Every cache remembers the ids as missing, every instance hears it before this resolves, and sockets and streams end. */
  async function revoked(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return ids;
    const now = clock();
    await chain.setMissing(ids, now + cacheTtl, now);
    await coherence.announce({ kind: 'gone', ids });
    await Promise.all(ids.map((id) => publishQuietly(topics.session(id), { type: 'revoked' })));
    return ids;
  }

  /** A revoke is done once the store said so: a message that cannot go out is a warning, not a failed revoke. */
  async function publishQuietly(topic: string, message: unknown): Promise<void> {
    try {
      await messages.publish(topic, message);
    } catch (error) {
      warn('SOJOURN_MESSAGE_PUBLISH', `could not publish on ${topic}: ${reason(error)}`);
    }
  }

  async function createNewAuthenticatedSession(user: SessionUser, strategyName: string, { from }: { from?: CachedSession } = {}): Promise<Created> {
    const snapshot = jsonCopy(user, 'the user');
    if (typeof snapshot !== 'object' || snapshot === null || (typeof snapshot.id !== 'string' && typeof snapshot.id !== 'number')) {
      throw new TypeError('sojourn: the user must be an object with an `id` (string or number)');
    }
    if (typeof strategyName !== 'string' || strategyName.length === 0) {
      throw new TypeError('sojourn: the authentication strategy name must be a non-empty string');
    }
    if (Buffer.byteLength(JSON.stringify(snapshot)) > options.maxDataBytes) {
      throw new SessionDataError(`the user snapshot exceeds maxDataBytes (${options.maxDataBytes})`, 'ERR_SESSION_DATA_TOO_LARGE');
    }
    // `from` may be an old snapshot: another request of the same guest may have written since.
    const stored = from && (await store.get(from.id));
    const guest = stored && stored.expiresAt > clock() ? stored : undefined;
    const activeOrderId = await options.mergeActiveOrder({ guestOrderId: guest?.activeOrderId, user: snapshot });
    const data = guest ? await options.mergeGuestData({ guestData: guest.data, user: snapshot }) : undefined;
    const created = await createRecord({
      userId: snapshot.id,
      user: snapshot,
      authenticationStrategy: strategyName,
      activeOrderId: activeOrderId ?? undefined,
      activeChannelId: guest?.activeChannelId,
      data: data ? jsonCopy(data, 'mergeGuestData() result') : {},
    });
    if (from) await deleteSession(from.id);
    return created;
  }

  async function deleteSession(id: string): Promise<boolean> {
    const deleted = await store.delete(id);
    await revoked([id]);
    return deleted;
  }

  async function createSession({ token, kind = 'internal' }: { token?: string; kind?: SessionKind } = {}): Promise<Session> {
    const session = new Session(service, kind);
    open.watch(session, new Error('internal session created here').stack);
    try {
      await sessionControl.load(session, typeof token === 'string' ? codec.verify(token) : undefined);
    } catch (error) {
      await session.close({ error });
      throw error;
    }
    return session;
  }

  const service: SessionService = {
    options,
    messages,
    codec,
    resolve,
    createAnonymousSession: () => createRecord({}),
    createNewAuthenticatedSession,
    async getSessionFromToken(token: string): Promise<CachedSession | undefined> {
      const verified = typeof token === 'string' ? codec.verify(token) : undefined;
      return verified && (await resolve(verified))?.session;
    },
    serializeSession: (record) => serializeSession(record),
    update,
    setActiveOrder: (session, order) => update(session, { activeOrderId: idOf(order, 'order') }),
    unsetActiveOrder: (session) => update(session, { activeOrderId: null }),
    setActiveChannel: (session, channel) => update(session, { activeChannelId: idOf(channel, 'channel') }),
    deleteSession,
    async deleteSessionsByUser(userId: Id): Promise<string[]> {
      const ids = await revoked(await store.deleteByUser(userId));
      if (ids.length > 0) await publishQuietly(topics.user(idOf(userId, 'the user id')), { type: 'revoked', sessionIds: ids });
      return ids;
    },
    deleteSessionsByActiveOrderId: async (orderId: Id): Promise<string[]> => revoked(await store.deleteByActiveOrderId(orderId)),
    async listSessionsByUser(userId: Id): Promise<SessionSummary[]> {
      const now = clock();
      const records = await store.listByUser(userId);
      return records
        .filter((record) => record.expiresAt > now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map(({ secretHash: _hash, ...summary }) => summary);
    },
    async clearCache(): Promise<void> {
      await chain.clear();
      await coherence.announce({ kind: 'all' });
    },
    async invalidateUser(userId: Id): Promise<void> {
      const records = await store.listByUser(userId);
      if (records.length === 0) return;
      await chain.delete(records.map((record) => record.id));
      await coherence.announce({ kind: 'write', ids: records.map((r) => r.id), versions: records.map((r) => r.version) });
    },
    createSession,
    async withSession(fn, opts) {
      const session = await createSession(opts);
      let result: Awaited<ReturnType<typeof fn>>;
      try {
        result = await fn(session);
      } catch (error) {
        await session.close({ error });
        throw error;
      }
      await session.close();
      return result;
    },
    open: (kind, binding) => new Session(service, kind, binding),
    load: (id) => store.get(id),
    onRevoke(listener) {
      revokeListeners.add(listener);
      return () => void revokeListeners.delete(listener);
    },
    opened: (session) => open.add(session),
    closed: (session) => open.delete(session),
  };
  return service;
}

