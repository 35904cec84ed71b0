import { deviceFields, type Device } from './device.js';
import { SessionDataError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import type { Created, Records } from './records.js';
import type { SessionStore } from './stores/types.js';
import type { CachedSession, SessionUser } from './types.js';
import { jsonCopy } from './values.js';

export interface LoginOptions {
  /** The session logging in (its record is replaced: its order and data carried, its token superseded). */
  from?: CachedSession;
  /** `false`: a browser-session cookie and `shortDuration` of idle life (Vendure's default is a long-lived cookie). @default true */
  rememberMe?: boolean;
  /** The client logging in (kept as the `device` option allows); the guest's when not given. */
  device?: Device;
}

/**
 * A login: always a new record and token (no fixation). The guest's active order goes through
 * `mergeActiveOrder`, its data through `mergeGuestData`, its channel is kept, and its record is
 * superseded rather than deleted (the login race: see `supersede`).
 */
export function createLogin(records: Records, store: SessionStore, options: ResolvedOptions) {
  return async function createNewAuthenticatedSession(user: SessionUser, strategyName: string, { from, rememberMe = true, device }: LoginOptions = {}): Promise<Created> {
    const snapshot = userSnapshot(user, options.maxDataBytes);
    if (typeof strategyName !== 'string' || strategyName.length === 0) {
      throw new TypeError('sojourn: the authentication strategy name must be a non-empty string');
    }
    if (typeof rememberMe !== 'boolean') throw new TypeError('sojourn: `rememberMe` must be a boolean');
    // `from` may be an old snapshot: another request of the same guest may have written since.
    const stored = from && (await store.get(from.id));
    const guest = stored && stored.expiresAt > options.clock() && stored.supersededUntil === undefined ? stored : undefined;
    const activeOrderId = await options.mergeActiveOrder({ guestOrderId: guest?.activeOrderId, user: snapshot });
    const data = guest ? await options.mergeGuestData({ guestData: guest.data, user: snapshot }) : undefined;
    const created = await records.create({
      userId: snapshot.id,
      user: snapshot,
      authenticationStrategy: strategyName,
      activeOrderId: activeOrderId ?? undefined,
      activeChannelId: guest?.activeChannelId,
      data: data ? jsonCopy(data, 'mergeGuestData() result') : {},
      ...(rememberMe ? {} : { rememberMe: false }),
      ...deviceFields(device ?? guest, options.device),
    });
    if (guest) await records.supersede(guest.id);
    return created;
  };
}

/** A JSON copy of the user, checked: an object with an id, within `maxDataBytes`. */
export function userSnapshot(user: SessionUser, maxBytes: number): SessionUser {
  const snapshot = jsonCopy(user, 'the user');
  if (typeof snapshot !== 'object' || snapshot === null || (typeof snapshot.id !== 'string' && typeof snapshot.id !== 'number')) {
    throw new TypeError('sojourn: the user must be an object with an `id` (string or number)');
  }
  if (Buffer.byteLength(JSON.stringify(snapshot)) > maxBytes) {
    throw new SessionDataError(`the user snapshot exceeds maxDataBytes (${maxBytes})`, 'ERR_SESSION_DATA_TOO_LARGE');
  }
  return snapshot;
}
