import type { Id, SessionRecord, SessionUser } from '../types.js';

/**
 * A field-level change. Keys left out are untouched; `null` clears a field. `set` and `unset`
 * patch single keys of the data bag, so two writers of different keys both survive.
 */
export interface SessionPatch {
  readonly activeOrderId?: Id | null;
  readonly activeChannelId?: Id | null;
  readonly expiresAt?: number;
  /** A new user snapshot (the user's id does not change). */
  readonly user?: SessionUser;
  readonly lastSeenAt?: number;
  readonly userAgent?: string;
  readonly ip?: string | null;
  readonly supersededUntil?: number;
  readonly set?: Readonly<Record<string, unknown>>;
  readonly unset?: readonly string[];
  /** Computed by the manager's clock. */
  readonly updatedAt: number;
}

/**
 * Where sessions persist. Every method is atomic on its own; none reads a clock (times come
 * from the manager). Failures reject; the manager wraps them in `SessionStoreError`.
 */
export interface SessionStore {
  /** Names the backend in errors and logs. */
  readonly name: string;
  /**
   * `true` when other processes read the same records (Redis, PostgreSQL): an in-process cache in
   * front of it then needs a fleet to stay coherent.
   */
  readonly shared?: boolean;
  /** The record, or `undefined`. May return an expired record: the manager checks expiry. */
  get(id: string): Promise<SessionRecord | undefined>;
  create(record: SessionRecord): Promise<void>;
  /**
   * Applies the patch atomically per field and bumps `version`. Returns the whole record after
   * the change, or `undefined` when it does not exist: a missing record is never recreated.
   */
  update(id: string, patch: SessionPatch): Promise<SessionRecord | undefined>;
  /** Whether a record was deleted. */
  delete(id: string): Promise<boolean>;
  /** Deletes every session of the user; returns their ids. */
  deleteByUser(userId: Id): Promise<string[]>;
  /** Deletes every session whose active order is this one; returns their ids. */
  deleteByActiveOrderId(orderId: Id): Promise<string[]>;
  /** The user's sessions (expired ones may be included; the manager filters). */
  listByUser(userId: Id): Promise<SessionRecord[]>;
  /** Optional: the sessions whose active channel is this one, by an index (`manager.unsetActiveChannel` needs it). */
  listByActiveChannelId?(channelId: Id): Promise<SessionRecord[]>;
  /** Deletes one batch of at most `limit` records with `expiresAt <= now`; returns their ids. */
  deleteExpired(now: number, limit: number): Promise<string[]>;
  /** Releases what the store itself opened (never the client it was given). */
  close?(): Promise<void>;
}
