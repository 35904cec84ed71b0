/**
 * The message bus contract: what carries session messages between subscribers, in one process
 * (`memoryBus()`, the default) or across instances (`redisBus({ client })` from 'sojourn/redis').
 * A bus moves strings (JSON made by the manager); parsing and session bookkeeping happen above it.
 */

/** Called with each message as published (a JSON string) and the channel it came on. */
export type BusListener = (message: string, channel: string) => void;

/** What `subscribe` returns: the unsubscribe (idempotent), and when delivery has begun. */
export interface BusSubscription {
  (): void;
  /** Resolves once messages posted from now on reach the listener (Redis: SUBSCRIBE answered). Never rejects. */
  readonly ready: Promise<void>;
}

export interface MessageBus {
  readonly name: string;
  /** Delivers `message` to every listener of `channel` (on every instance, for a shared bus). */
  publish(channel: string, message: string): Promise<void>;
  /** Adds a listener; a shared bus subscribes to the channel once, however many listeners it has. */
  subscribe(channel: string, listener: BusListener): BusSubscription;
  /** Listeners held now (a leak gauge). */
  readonly listenerCount: number;
  /** Channels with at least one listener now. */
  readonly channelCount: number;
  /** Releases what the bus opened (not the client it was given). Called by `manager.close()`. */
  close?(): Promise<void>;
}

/** The channel names sojourn itself posts on. Any other non-empty string is a free-form channel. */
export const channels = Object.freeze({
  /** One session record's channel: `session:<id>`. Revocation posts `{ type: 'revoked' }` here. */
  session: (id: string): string => `session:${nonEmpty(String(id), 'session id')}`,
  /** Every session of one user: `user:<userId>`. `deleteSessionsByUser` posts `{ type: 'revoked', sessionIds }` here. */
  user: (userId: string | number): string => `user:${nonEmpty(String(userId), 'user id')}`,
});

/** A channel name: a non-empty string. */
export function channelName(channel: unknown): string {
  if (typeof channel !== 'string' || channel.length === 0) throw new TypeError('sojourn: a message channel must be a non-empty string');
  return channel;
}

// ---------------------------------------------------------------------------------------

function nonEmpty(value: string, what: string): string {
  if (value.length === 0) throw new TypeError(`sojourn: channels need a non-empty ${what}`);
  return value;
}
