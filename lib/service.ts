import type { CacheChain } from './caches/chain.js';
import type { Coherence } from './coherence.js';
import { deviceFields, type Device } from './device.js';
import { reason, warn } from './environment.js';
import { createLogin, type LoginOptions } from './login.js';
import type { MessageHub } from './messages/session.js';
import type { OpenSessions } from './open-sessions.js';
import type { ResolvedOptions } from './options.js';
import { createRecords, type Created, type Patch } from './records.js';
import { createResolver, type Resolution } from './resolver.js';
import { Session, sessionControl, type SessionBinding } from './session.js';
import type { SessionStore } from './stores/types.js';
import type { TokenCodec, VerifiedToken } from './token/codec.js';
import type { CachedSession, Id, IdOrEntity, SessionKind, SessionRecord, SessionSummary, SessionUser } from './types.js';
import { createUserSessions, type UserUpdate } from './users.js';
import { idOf } from './values.js';

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


/** The service's members: what `SessionManager` shows users, and what sessions and frameworks use. */
export interface SessionService {
  readonly options: ResolvedOptions;
  readonly messages: MessageHub;
  /** Issues and verifies this manager's tokens. */
  readonly codec: TokenCodec;
  resolve(token: VerifiedToken): Promise<Resolution | undefined>;
  /** A new guest record; `device` is kept as the `device` option allows. */
  createAnonymousSession(device?: Device): Promise<Created>;
  createNewAuthenticatedSession(user: SessionUser, strategyName: string, options?: LoginOptions): Promise<Created>;
  /** The session behind a token, or `undefined` for junk, unknown, forged, expired, destroyed or superseded ones. */
  getSessionFromToken(token: string): Promise<CachedSession | undefined>;
  serializeSession(record: SessionRecord): CachedSession;
  /** A field-level write; `undefined` when the record is gone (it is never recreated). */
  update(session: CachedSession, patch: Patch): Promise<CachedSession | undefined>;
  setActiveOrder(session: CachedSession, order: IdOrEntity): Promise<CachedSession | undefined>;
  /** Writes nothing when the session has no active order. */
  unsetActiveOrder(session: CachedSession): Promise<CachedSession | undefined>;
  setActiveChannel(session: CachedSession, channel: IdOrEntity): Promise<CachedSession | undefined>;
  deleteSession(id: string): Promise<boolean>;
  /** Signs the user out everywhere (or everywhere but `except`, a session id); returns the ids revoked. */
  deleteSessionsByUser(userId: Id, options?: { except?: string }): Promise<string[]>;
  deleteSessionsByActiveOrderId(orderId: Id): Promise<string[]>;
  /** The user's live sessions, newest first (device lists). */
  listSessionsByUser(userId: Id): Promise<SessionSummary[]>;
  /** Every live session of the user sees the new snapshot, on every instance, before this resolves; returns how many. */
  updateUser(userId: Id, update: UserUpdate): Promise<number>;
  /** No session keeps pointing at the channel (it was deleted); returns how many were cleared. */
  unsetActiveChannel(channelId: Id): Promise<number>;
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
  /** Calls `listener` with the ids of sessions revoked (or superseded) here or on another instance; returns the unsubscribe. */
  onRevoke(listener: (ids: readonly string[]) => void): () => void;
  opened(session: Session): void;
  closed(session: Session): void;
}

/**
 * The session service (Vendure's SessionService): records, writes and revokes, on the store, the
 * caches and the fleet. `Session` calls it directly; the manager hands its public part to users.
 */
export function createSessionService(parts: ServiceParts): SessionService {
  const { options, store, chain, codec, coherence, messages, open } = parts;
  const records = createRecords(parts);
  const resolve = createResolver({ ...parts, serialize: records.serialize });
  const createNewAuthenticatedSession = createLogin(records, store, options);
  const users = createUserSessions({ options, store, chain, coherence, records });
  const revokeListeners = new Set<(ids: readonly string[]) => void>();

  coherence.onChange((change) => {
    if (change.kind === 'all' || (change.kind === 'write' && !change.superseded)) return;
    for (const listener of revokeListeners) {
      try {
        listener(change.ids);
      } catch (error) {
        warn('SOJOURN_REVOKE_LISTENER', `a revocation listener threw: ${reason(error)}`);
      }
    }
  });

  async function deleteSession(id: string): Promise<boolean> {
    const deleted = await store.delete(id);
    await records.revoked([id]);
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
    createAnonymousSession: (device) => records.create(deviceFields(device, options.device)),
    createNewAuthenticatedSession,
    async getSessionFromToken(token) {
      const verified = typeof token === 'string' ? codec.verify(token) : undefined;
      const resolution = verified && (await resolve(verified));
      return resolution && !resolution.superseded ? resolution.session : undefined;
    },
    serializeSession: (record) => records.serialize(record),
    update: records.update,
    setActiveOrder: (session, order) => records.update(session, { activeOrderId: idOf(order, 'order') }),
    unsetActiveOrder: async (session) => (session.activeOrderId === undefined ? session : records.update(session, { activeOrderId: null })),
    setActiveChannel: (session, channel) => records.update(session, { activeChannelId: idOf(channel, 'channel') }),
    deleteSession,
    ...users,
    deleteSessionsByActiveOrderId: async (orderId) => records.revoked(await store.deleteByActiveOrderId(orderId)),
    async unsetActiveChannel(channelId) {
      if (!store.listByActiveChannelId) throw new TypeError(`sojourn: the ${store.name} store has no channel index (listByActiveChannelId)`);
      const listed = await store.listByActiveChannelId(idOf(channelId, 'channel'));
      return (await records.updateEach(listed, () => ({ activeChannelId: null }))).length;
    },
    async clearCache() {
      await chain.clear();
      await coherence.announce({ kind: 'all' });
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
