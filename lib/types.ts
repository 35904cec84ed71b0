/** The shapes shared by the manager, the stores and the caches. */

/** A user, order or channel id as the application knows it. */
export type Id = string | number;

/** Anything with an id, or the id itself: `setActiveOrder(order)` takes either. */
export type IdOrEntity = Id | { readonly id: Id };

/** The snapshot of the user kept on an authenticated session (JSON). */
export interface SessionUser {
  readonly id: Id;
  readonly [key: string]: unknown;
}

/**
 * One session as the store keeps it. Times are epoch milliseconds, computed by the manager
 * (stores never read a clock of their own). Only the hash of the token's secret is kept.
 */
export interface SessionRecord {
  /** UUID v7: the public, time-ordered key. */
  readonly id: string;
  /** base64url sha256 of the token's secret. */
  readonly secretHash: string;
  /** Bumped by the store on every update; caches never replace a newer version with an older one. */
  readonly version: number;
  readonly userId?: Id;
  readonly user?: SessionUser;
  readonly authenticationStrategy?: string;
  readonly activeOrderId?: Id;
  readonly activeChannelId?: Id;
  /** The application's JSON bag, read with `session.get(key)`. */
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Idle expiry, slides forward on use. */
  readonly expiresAt: number;
  /** No renewal goes past this. */
  readonly absoluteExpiresAt: number;
  /** `false`: logged in without "remember me" (a browser-session cookie, `shortDuration` idle). */
  readonly rememberMe?: boolean;
  /** When the session was last used: written on renewal and at most once per `device.lastSeenEvery` (device lists). */
  readonly lastSeenAt?: number;
  /** The client's `User-Agent`, cut to a bounded length (device lists). */
  readonly userAgent?: string;
  /** The client's address as the framework sees it behind a proxy it trusts (device lists). */
  readonly ip?: string;
  /** Replaced by a login or a rotation: until then its token is neither honoured nor cleared (the login race). */
  readonly supersededUntil?: number;
}

/** A record as the caches hold it: `cacheExpiry` is when the entry goes stale (never after `expiresAt`). */
export interface CachedSession extends SessionRecord {
  readonly cacheExpiry: number;
}

/** What a revoke or a listing hands back: everything but the secret's hash. */
export type SessionSummary = Omit<SessionRecord, 'secretHash'>;

/** The kinds of work a Session stands for (Serverpod's session types, mapped onto Node). */
export type SessionKind = 'request' | 'stream' | 'websocket' | 'task' | 'internal';

export type SessionState = 'open' | 'closing' | 'closed';
