import { lruCache } from './caches/lru.js';
import { CacheChain } from './caches/chain.js';
import type { SessionCache } from './caches/types.js';
import { createFleet } from './fleet.js';
import { resolveOptions, type ResolvedOptions, type SessionOptions } from './options.js';
import { createResolver } from './resolver.js';
import { LOAD, Session, type SessionBinding, type SessionEngine } from './session.js';
import { guardStore } from './stores/guard.js';
import { memoryStore } from './stores/memory.js';
import type { SessionPatch, SessionStore } from './stores/types.js';
import { newToken } from './token/codec.js';
import type { CachedSession, Id, IdOrEntity, SessionKind, SessionRecord, SessionSummary, SessionUser } from './types.js';
import { deepFreeze, idOf, jsonCopy } from './values.js';
import { OpenSessions } from './open-sessions.js';
import { memoryBus } from './messages/memory.js';
import { createMessageHub, type MessageHub } from './messages/session.js';
import { channels } from './messages/types.js';
import { createCleanup } from './tasks/cleanup.js';
import { createFutureCalls, START, STOP, type FutureCalls } from './tasks/future-calls.js';

/** Frameworks open sessions bound to their transport through this; it is not public API. */
export const OPEN = Symbol('sojourn.open');
/** Long-lived transports (WebSockets, streams) learn here which sessions were revoked, here or on another instance. */
export const ON_REVOKE = Symbol('sojourn.onRevoke');

export interface SessionManager {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly caches: readonly SessionCache[];
  /** How many Session objects are open now: a leak gauge. */
  readonly openSessions: number;
  /** Durable work after the request: `register`, `callWithDelay`, `callAtTime`, `every`, `cancel`. */
  readonly futureCalls: FutureCalls;
  /** Session messages outside a session: `post(channel, message)`, `listen` (unsubscribe yourself), `bus`. */
  readonly messages: MessageHub;
  /** Schedules the periodic cleanup (timers are unref'd). Idempotent. */
  start(): Promise<void>;
  /** Stops timers, closes open sessions, waits for a running cleanup, closes the store and caches. */
  close(): Promise<void>;
  createAnonymousSession(): Promise<{ token: string; session: CachedSession }>;
  createNewAuthenticatedSession(user: SessionUser, strategyName: string, options?: { from?: CachedSession }): Promise<{ token: string; session: CachedSession }>;
  /** The session behind a token, or `undefined` for junk, unknown, forged, expired or destroyed ones. */
  getSessionFromToken(token: string): Promise<CachedSession | undefined>;
  serializeSession(record: SessionRecord): CachedSession;
  setActiveOrder(session: CachedSession, order: IdOrEntity): Promise<CachedSession | undefined>;
  unsetActiveOrder(session: CachedSession): Promise<CachedSession | undefined>;
  setActiveChannel(session: CachedSession, channel: IdOrEntity): Promise<CachedSession | undefined>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessionsByUser(userId: Id): Promise<string[]>;
  deleteSessionsByActiveOrderId(orderId: Id): Promise<string[]>;
  listSessionsByUser(userId: Id): Promise<SessionSummary[]>;
  /** Deletes expired records batch by batch until none is left; returns how many. */
  cleanExpiredSessions(batchSize?: number): Promise<number>;
  /** Starts a cleanup unless one is running (then joins it); resolves to its count. */
  triggerCleanSessionsJob(batchSize?: number): Promise<number>;
  clearCache(): Promise<void>;
  /** Drops the user's sessions from the caches (roles or channels changed); the next use reloads them. */
  invalidateUser(userId: Id): Promise<void>;
  /** An internal session the caller must close (`await using`, or try/finally). */
  createSession(options?: { token?: string; kind?: SessionKind }): Promise<Session>;
  /** Opens a session, runs `fn`, closes it (with the error if `fn` threw) and returns `fn`'s value. */
  withSession<T>(fn: (session: Session) => T | Promise<T>, options?: { token?: string; kind?: SessionKind }): Promise<T>;
  [OPEN](kind: SessionKind, binding: SessionBinding): Session;
  /** Calls `listener` with the ids of sessions revoked on this instance or heard from another; returns the unsubscribe. */
  [ON_REVOKE](listener: (ids: readonly string[]) => void): () => void;
}

/** The session service: Vendure's SessionService and Serverpod's session factory in one. */
export function createSessionManager(input: SessionOptions = {}): SessionManager {
  const options = resolveOptions(input);
  const { clock, cacheTtl, duration, absoluteDuration } = options;
  const rawStore = options.store ?? memoryStore();
  const store = guardStore(rawStore, options.storeTimeout);
  const chain = new CacheChain(options.caches ?? [lruCache()], options.cacheTimeout);
  const open = new OpenSessions();
  const fleet = createFleet(chain, rawStore, cacheTtl, options.cacheTimeout);
  const messages = createMessageHub(options.messages.bus ?? memoryBus(), options.messages.buffer);
  const cleanup = createCleanup({
    store,
    local: fleet.local,
    // A shared cache (Redis) or the store (PostgreSQL) may offer a fleet-wide lock for the job.
    locker: chain.layers.find((cache) => cache.lock) ?? (rawStore.lock ? rawStore : undefined),
    clock,
    batchSize: options.cleanupBatchSize,
    interval: options.cleanupInterval,
  });

  function serializeSession(record: SessionRecord): CachedSession {
    const cacheExpiry = Math.min(clock() + cacheTtl, record.expiresAt);
    return deepFreeze({ ...record, cacheExpiry });
  }

  const resolve = createResolver({ options, chain, store, serialize: serializeSession });

  async function createRecord(fields: Partial<SessionRecord>): Promise<{ token: string; session: CachedSession }> {
    const now = clock();
    const { token, id, secretHash } = newToken();
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
    const session = serializeSession(record);
    await chain.set(session, now);
    return { token, session };
  }

  async function update(session: CachedSession, patch: Omit<SessionPatch, 'updatedAt'>): Promise<CachedSession | undefined> {
    const now = clock();
    const record = await store.update(session.id, { ...patch, updatedAt: now });
    if (!record) {
      await chain.setMissing([session.id], cacheTtl);
      return undefined;
    }
    const next = serializeSession(record);
    await chain.set(next, now);
    return next;
  }

  async function revoked(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return ids;
    await chain.setMissing(ids, cacheTtl);
    fleet.announceRevoked(ids);
    await Promise.all(ids.map((id) => postQuietly(channels.session(id), { type: 'revoked' })));
    return ids;
  }

  /** Revocation is done once the store said so: a message that cannot go out is a warning, not a failed revoke. */
  async function postQuietly(channel: string, message: unknown): Promise<void> {
    try {
      await messages.post(channel, message);
    } catch (error) {
      process.emitWarning(`could not post on ${channel}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SOJOURN_MESSAGE_POST' });
    }
  }

  const engine: SessionEngine = {
    options,
    resolve,
    createAnonymousSession: () => createRecord({}),
    createNewAuthenticatedSession: (user, strategyName, opts) => manager.createNewAuthenticatedSession(user, strategyName, opts),
    update,
    deleteSession: (id) => manager.deleteSession(id),
    onRevoke: (listener) => fleet.onRevoke(listener),
    messages,
    opened: (session) => open.add(session),
    closed: (session) => open.delete(session),
  };

  // Task sessions read their record from the store (fresh, and no renewal: a task is not the user's activity).
  const futureCalls = createFutureCalls(options.futureCalls, clock, {
    open: (binding) => new Session(engine, 'task', binding),
    async load(id) {
      const record = await store.get(id);
      return record && record.expiresAt > clock() ? serializeSession(record) : undefined;
    },
  });

  const manager: SessionManager = {
    options,
    store: rawStore,
    caches: chain.layers,
    futureCalls,
    messages,
    get openSessions() {
      return open.size;
    },
    async start() {
      await fleet.ready;
      futureCalls[START]();
      cleanup.start();
    },
    async close() {
      await futureCalls[STOP](); // stops claiming, waits for running calls (their sessions are still open)
      await cleanup.stop();
      await open.closeAll();
      await messages.bus.close?.();
      await fleet.stop();
      await Promise.all([rawStore.close?.(), ...chain.layers.map((cache) => cache.close?.())]);
    },
    createAnonymousSession: () => createRecord({}),
    async createNewAuthenticatedSession(user, strategyName, { from } = {}) {
      const snapshot = jsonCopy(user, 'the user');
      if (typeof snapshot !== 'object' || snapshot === null || (typeof snapshot.id !== 'string' && typeof snapshot.id !== 'number')) {
        throw new TypeError('sojourn: the user must be an object with an `id` (string or number)');
      }
      if (typeof strategyName !== 'string' || strategyName.length === 0) {
        throw new TypeError('sojourn: the authentication strategy name must be a non-empty string');
      }
      // `from` may be an old snapshot: another request of the same guest may have written since.
      const stored = from && (await store.get(from.id));
      const guest = stored && stored.expiresAt > clock() ? stored : undefined;
      const activeOrderId = await options.mergeActiveOrder({ guestOrderId: guest?.activeOrderId, user: snapshot });
      const created = await createRecord({
        userId: snapshot.id,
        user: snapshot,
        authenticationStrategy: strategyName,
        activeOrderId: activeOrderId ?? undefined,
        activeChannelId: guest?.activeChannelId,
        data: guest?.data ?? {},
      });
      if (from) await manager.deleteSession(from.id);
      return created;
    },
    async getSessionFromToken(token) {
      return typeof token === 'string' ? (await resolve(token))?.session : undefined;
    },
    serializeSession,
    setActiveOrder: (session, order) => update(session, { activeOrderId: idOf(order, 'order') }),
    unsetActiveOrder: (session) => update(session, { activeOrderId: null }),
    setActiveChannel: (session, channel) => update(session, { activeChannelId: idOf(channel, 'channel') }),
    async deleteSession(id) {
      const deleted = await store.delete(id);
      await revoked([id]);
      return deleted;
    },
    async deleteSessionsByUser(userId) {
      const ids = await revoked(await store.deleteByUser(userId));
      if (ids.length > 0) await postQuietly(channels.user(idOf(userId, 'the user id')), { type: 'revoked', sessionIds: ids });
      return ids;
    },
    deleteSessionsByActiveOrderId: async (orderId) => revoked(await store.deleteByActiveOrderId(orderId)),
    async listSessionsByUser(userId) {
      const now = clock();
      const records = await store.listByUser(userId);
      return records
        .filter((record) => record.expiresAt > now)
        .sort((a, b) => a.createdAt - b.createdAt)
        .map(({ secretHash: _hash, ...summary }) => summary);
    },
    cleanExpiredSessions: (batchSize) => cleanup.clean(batchSize),
    triggerCleanSessionsJob: (batchSize) => cleanup.trigger(batchSize),
    clearCache: () => chain.clear(),
    async invalidateUser(userId) {
      const records = await store.listByUser(userId);
      await chain.delete(records.map((record) => record.id));
    },
    async createSession({ token, kind = 'internal' } = {}) {
      const session = new Session(engine, kind);
      open.watch(session, new Error('internal session created here').stack);
      try {
        await session[LOAD](token);
      } catch (error) {
        await session.close({ error });
        throw error;
      }
      return session;
    },
    async withSession(fn, opts) {
      const session = await manager.createSession(opts);
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
    [OPEN](kind, binding) {
      return new Session(engine, kind, binding);
    },
    [ON_REVOKE]: (listener) => fleet.onRevoke(listener),
  };
  return manager;
}
