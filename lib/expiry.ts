import type { ResolvedOptions } from './options.js';
import type { SessionRecord } from './types.js';

type Durations = Pick<ResolvedOptions, 'duration' | 'shortDuration' | 'anonymousDuration'>;
type Shape = Pick<SessionRecord, 'userId' | 'rememberMe' | 'activeOrderId'>;

/**
 * The idle lifetime a record slides by: `shortDuration` for a login without "remember me",
 * `anonymousDuration` for a guest with no active order (Vendure's cleanup rule, counted from the
 * last use), `duration` otherwise. The shorter ones never outlast `duration`.
 */
export function idleDuration(record: Shape, options: Durations): number {
  if (record.userId !== undefined) return record.rememberMe === false ? Math.min(options.shortDuration, options.duration) : options.duration;
  return record.activeOrderId === undefined ? Math.min(options.anonymousDuration, options.duration) : options.duration;
}

/**
 * The new `expiresAt` when less than half of the idle lifetime is left (at most one write per
 * half), capped by `absoluteExpiresAt`; `undefined` when no renewal is due.
 */
export function renewedExpiry(record: Shape & Pick<SessionRecord, 'expiresAt' | 'absoluteExpiresAt'>, now: number, options: Durations): number | undefined {
  const idle = idleDuration(record, options);
  const renewTo = Math.min(now + idle, record.absoluteExpiresAt);
  return record.expiresAt - now < idle / 2 && renewTo > record.expiresAt ? renewTo : undefined;
}
