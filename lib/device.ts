import type { Duration } from './duration.js';
import { SessionConfigError } from './errors.js';
import type { SessionRecord } from './types.js';
import { durationOption, optionGroup } from './validate.js';

/** What a device list shows of the client a session was created or logged in from. */
export type Device = Pick<SessionRecord, 'userAgent' | 'ip'>;

export interface DeviceOptions {
  /** Keep the client's address (as the framework sees it behind a proxy it trusts). @default true */
  ip?: boolean;
  /** Keep the client's `User-Agent`, cut to 512 characters. @default true */
  userAgent?: boolean;
  /** How often a session in use writes `lastSeenAt`; `false`: only when its expiry is renewed. @default '1h' */
  lastSeenEvery?: Duration | false;
}

export interface ResolvedDevice {
  readonly ip: boolean;
  readonly userAgent: boolean;
  readonly lastSeenEvery: number | false;
}

/** A `User-Agent` longer than this is cut: a header must not grow every record it is copied into. */
export const USER_AGENT_MAX = 512;

export function resolveDeviceOptions(value: unknown): ResolvedDevice {
  const group = optionGroup('device', value, new Set(['ip', 'userAgent', 'lastSeenEvery']));
  return Object.freeze({
    ip: flag('device.ip', group.ip),
    userAgent: flag('device.userAgent', group.userAgent),
    lastSeenEvery: group.lastSeenEvery === false ? false : durationOption('device.lastSeenEvery', group.lastSeenEvery, '1h', 1_000),
  });
}

/** The fields a new record takes from its client, as the options allow. */
export function deviceFields(device: Device | undefined, options: ResolvedDevice): Device {
  const fields: { userAgent?: string; ip?: string } = {};
  if (options.userAgent && typeof device?.userAgent === 'string' && device.userAgent !== '') fields.userAgent = device.userAgent.slice(0, USER_AGENT_MAX);
  if (options.ip && typeof device?.ip === 'string' && device.ip !== '') fields.ip = device.ip;
  return fields;
}

/** Whether a session in use is due a `lastSeenAt` write (at most one per `lastSeenEvery`). */
export function lastSeenDue(record: Pick<SessionRecord, 'lastSeenAt' | 'createdAt'>, now: number, options: ResolvedDevice): boolean {
  return options.lastSeenEvery !== false && now - (record.lastSeenAt ?? record.createdAt) >= options.lastSeenEvery;
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new SessionConfigError(name, 'must be a boolean');
  return value;
}
