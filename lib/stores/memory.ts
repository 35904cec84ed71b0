import { isProduction, warn } from '../environment.js';
import type { Id, SessionRecord } from '../types.js';
import { ExpiryQueue } from './expiry-queue.js';
import type { SessionPatch, SessionStore } from './types.js';

/**
 * The default store: a Map in this process, with indexes by user, active order and active channel
 * so revokes are not scans, and an expiry queue so the cleanup job removes expired records without a scan.
 * Not shared between processes and lost on restart, hence the warning in production.
 */
export function memoryStore(): SessionStore {
  if (isProduction()) {
    warn(
      'SOJOURN_MEMORY_STORE',
      'memoryStore() keeps sessions in this process only: they are lost on restart and not shared ' +
        'between instances. Use redisStore or postgresStore in production.',
    );
  }
  const records = new Map<string, SessionRecord>();
  const byUser = new Index();
  const byOrder = new Index();
  const byChannel = new Index();
  const expiry = new ExpiryQueue();

  function put(record: SessionRecord, previous?: SessionRecord): void {
    records.set(record.id, record);
    byUser.move(record.id, previous?.userId, record.userId);
    byOrder.move(record.id, previous?.activeOrderId, record.activeOrderId);
    byChannel.move(record.id, previous?.activeChannelId, record.activeChannelId);
    if (record.expiresAt !== previous?.expiresAt) expiry.push(record.expiresAt, record.id);
  }

  function remove(id: string): boolean {
    const record = records.get(id);
    if (!record) return false;
    records.delete(id);
    byUser.move(id, record.userId, undefined);
    byOrder.move(id, record.activeOrderId, undefined);
    byChannel.move(id, record.activeChannelId, undefined);
    return true;
  }

  return {
    name: 'memory',
    async get(id) {
      return records.get(id);
    },
    async create(record) {
      put(record);
    },
    async update(id, patch) {
      const current = records.get(id);
      if (!current) return undefined;
      const next = applyPatch(current, patch);
      put(next, current);
      return next;
    },
    async delete(id) {
      return remove(id);
    },
    async deleteByUser(userId) {
      const ids = byUser.ids(userId);
      for (const id of ids) remove(id);
      return ids;
    },
    async deleteByActiveOrderId(orderId) {
      const ids = byOrder.ids(orderId);
      for (const id of ids) remove(id);
      return ids;
    },
    async listByUser(userId) {
      return byUser.ids(userId).map((id) => records.get(id)!);
    },
    async listByActiveChannelId(channelId) {
      return byChannel.ids(channelId).map((id) => records.get(id)!);
    },
    async deleteExpired(now, limit) {
      // Removed as they are taken: the queue can hold one (id, expiresAt) twice (an expiry moved away and back).
      return expiry.takeExpired(now, limit, (id, expiresAt) => records.get(id)?.expiresAt === expiresAt && remove(id));
    },
  };
}

/** A new record with the patch applied; the previous one is left as it was (readers may hold it). */
export function applyPatch(record: SessionRecord, patch: SessionPatch): SessionRecord {
  const next: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
    ...record,
    version: record.version + 1,
    updatedAt: patch.updatedAt,
  };
  if (patch.activeOrderId !== undefined) next.activeOrderId = patch.activeOrderId ?? undefined;
  if (patch.activeChannelId !== undefined) next.activeChannelId = patch.activeChannelId ?? undefined;
  if (patch.user !== undefined) next.user = patch.user;
  if (patch.lastSeenAt !== undefined) next.lastSeenAt = patch.lastSeenAt;
  if (patch.userAgent !== undefined) next.userAgent = patch.userAgent;
  if (patch.ip !== undefined) next.ip = patch.ip ?? undefined;
  if (patch.supersededUntil !== undefined) next.supersededUntil = patch.supersededUntil;
  if (patch.expiresAt !== undefined) next.expiresAt = patch.expiresAt;
  if (patch.set || patch.unset) {
    const data = { ...record.data, ...patch.set };
    for (const key of patch.unset ?? []) delete data[key];
    next.data = data;
  }
  return next;
}

// ---------------------------------------------------------------------------------------

/** id → set of session ids; keys are compared as strings (a user id 7 and '7' are one user). */
class Index {
  readonly #sets = new Map<string, Set<string>>();

  ids(key: Id): string[] {
    return [...(this.#sets.get(String(key)) ?? [])];
  }

  move(sessionId: string, from: Id | undefined, to: Id | undefined): void {
    if (from === to) return;
    if (from !== undefined) {
      const set = this.#sets.get(String(from));
      set?.delete(sessionId);
      if (set?.size === 0) this.#sets.delete(String(from));
    }
    if (to !== undefined) {
      let set = this.#sets.get(String(to));
      if (!set) this.#sets.set(String(to), (set = new Set()));
      set.add(sessionId);
    }
  }
}
