import type { CacheChain } from './caches/chain.js';
import type { Coherence } from './coherence.js';
import { reason, warn } from './environment.js';
import { SessionDataError } from './errors.js';
import { idleDuration, renewedExpiry } from './expiry.js';
import type { MessageHub } from './messages/session.js';
import { topics } from './messages/topics.js';
import type { ResolvedOptions } from './options.js';
import type { SessionPatch, SessionStore } from './stores/types.js';
import type { TokenCodec } from './token/codec.js';
import type { CachedSession, SessionRecord } from './types.js';
import { deepFreeze, patchedDataBytes } from './values.js';

export interface RecordParts {
  readonly options: ResolvedOptions;
  /** The store, its failures wrapped in `SessionStoreError`. */
  readonly store: SessionStore;
  readonly chain: CacheChain;
  readonly codec: TokenCodec;
  readonly coherence: Coherence;
  readonly messages: MessageHub;
}

export type Created = { token: string; session: CachedSession };
export type Patch = Omit<SessionPatch, 'updatedAt'>;

/**
 * Records as every write sees them: the store first, then every cache, then every instance told
 * (and confirming) before the write resolves. Shared by the service, logins and bulk updates.
 */
export function createRecords({ options, store, chain, codec, coherence, messages }: RecordParts) {
  const { clock, cacheTtl } = options;

  function serialize(record: SessionRecord, now = clock()): CachedSession {
    return deepFreeze({ ...record, cacheExpiry: Math.min(now + cacheTtl, record.expiresAt) });
  }

  async function create(fields: Partial<SessionRecord>): Promise<Created> {
    const now = clock();
    const { token, id, secretHash } = codec.issue();
    const absoluteExpiresAt = now + options.absoluteDuration;
    const record: SessionRecord = {
      data: {},
      ...fields,
      id,
      secretHash,
      version: 1,
      createdAt: now,
      updatedAt: now,
      lastSeenAt: now,
      expiresAt: Math.min(now + idleDuration(fields, options), absoluteExpiresAt),
      absoluteExpiresAt,
    };
    await store.create(record);
    const session = serialize(record, now);
    await chain.set(session, now);
    return { token, session };
  }

  /** One write to one record. A write that changes its idle lifetime (a guest's first order) renews it in the same write. */
  async function update(session: CachedSession, patch: Patch): Promise<CachedSession | undefined> {
    if ((patch.set || patch.unset) && patchedDataBytes(session.data, patch) > options.maxDataBytes) {
      throw new SessionDataError(`session data would exceed maxDataBytes (${options.maxDataBytes})`, 'ERR_SESSION_DATA_TOO_LARGE');
    }
    const now = clock();
    const shape = { ...session, ...(patch.activeOrderId === undefined ? {} : { activeOrderId: patch.activeOrderId ?? undefined }) };
    const expiresAt = patch.expiresAt ?? renewedExpiry(shape, now, options);
    const record = await store.update(session.id, { ...patch, ...(expiresAt === undefined ? {} : { expiresAt, lastSeenAt: now }), updatedAt: now });
    if (!record) {
      await chain.setMissing([session.id], now + cacheTtl, now); // revoked elsewhere: that instance told the fleet
      return undefined;
    }
    const next = serialize(record, now);
    await chain.set(next, now);
    await coherence.announce({ kind: 'write', ids: [next.id], versions: [next.version] });
    return next;
  }

  /** A patch made for each record (all made before any is written), written one by one and announced once. */
  async function updateEach(records: readonly SessionRecord[], patchOf: (record: SessionRecord) => Patch | undefined): Promise<CachedSession[]> {
    const now = clock();
    const patches = records.map((record) => [record.id, patchOf(record)] as const);
    const written: CachedSession[] = [];
    for (const [id, patch] of patches) {
      const next = patch && (await store.update(id, { ...patch, updatedAt: now }));
      if (next) written.push(serialize(next, now));
    }
    await Promise.all(written.map((next) => chain.set(next, now)));
    if (written.length > 0) await coherence.announce({ kind: 'write', ids: written.map((r) => r.id), versions: written.map((r) => r.version) });
    return written;
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

  /**
   * A record replaced by a login or a rotation: for `supersededGrace` its token is neither honoured
   * nor cleared (a request that left before the login answered must not log the browser out), then
   * it expires like any other. Streams and sockets on it end as on a revoke.
   */
  async function supersede(id: string): Promise<void> {
    const now = clock();
    const until = now + options.supersededGrace;
    const record = await store.update(id, { supersededUntil: until, expiresAt: until, updatedAt: now });
    if (!record) return;
    const next = serialize(record, now);
    await chain.set(next, now);
    await coherence.announce({ kind: 'write', ids: [id], versions: [next.version], superseded: true });
    await publishQuietly(topics.session(id), { type: 'revoked' });
  }

  /** A revoke is done once the store said so: a message that cannot go out is a warning, not a failed revoke. */
  async function publishQuietly(topic: string, message: unknown): Promise<void> {
    try {
      await messages.publish(topic, message);
    } catch (error) {
      warn('SOJOURN_MESSAGE_PUBLISH', `could not publish on ${topic}: ${reason(error)}`);
    }
  }

  return { serialize, create, update, updateEach, revoked, supersede, publishQuietly };
}

export type Records = ReturnType<typeof createRecords>;
