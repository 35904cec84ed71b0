import type { SessionChange } from '../caches/types.js';
import type { RedisClient, RedisSubscriber } from './client.js';

/**
 * The change feed: every write and revoke a Redis store or cache makes is published on its
 * channel as `{ from, ids, gone }` (or `{ from, all: true }`), most of them from inside the Lua
 * script that made the change. Each instance listens on a duplicated connection and tells its
 * manager, which evicts those ids from the in-process cache layers.
 */

/** A message as published: `from` lets a backend ignore its own changes. */
export function changeMessage(from: string, change: SessionChange): string {
  return JSON.stringify(change === 'all' ? { from, all: true } : { from, ids: change.ids, gone: change.gone });
}

/**
 * A write (not a removal) is delivered twice: at once and again after this. A lookup that read
 * the shared layer just before the write could otherwise back-fill the old version into the
 * in-process layer right after the first eviction. Removals need no second pass: the manager
 * remembers them as missing, which no late back-fill replaces.
 */
const REDELIVER_MS = 250;

/** How long `subscribe()` waits for the first connection before it goes on in the background. */
const CONNECT_WAIT_MS = 5_000;

/**
 * `subscribe()` for a backend: a duplicate connection on `channel`, changes from other
 * instances handed to `onChange`. After the connection comes back from an outage, `'all'` is
 * delivered: messages published meanwhile were lost, so in-process layers are emptied.
 */
export function changeFeed(client: RedisClient, channel: string, from: string, name: string) {
  return async function subscribe(onChange: (change: SessionChange) => void): Promise<() => Promise<void>> {
    const subscriber = client.duplicate();
    const timers = new Set<NodeJS.Timeout>();
    const deliver = (change: SessionChange) => {
      try {
        onChange(change);
      } catch {
        // the manager's handler does not throw; a custom one must not break the feed
      }
    };
    let listened = false;
    let down = false;
    subscriber.on('error', (error) => {
      if (down) return;
      down = true;
      process.emitWarning(`${name} change feed lost its connection (${error.message}); in-process caches may miss revocations until it is back`, {
        code: 'SOJOURN_REDIS_FEED_DOWN',
      });
    });
    subscriber.on('ready', () => {
      if (listened) deliver('all'); // back after an outage (or a late start): what was missed is unknown
      down = false;
    });
    const listening = subscriber.connect().then(() =>
      subscriber.subscribe(channel, (message) => heard(parseChange(message, from), deliver, timers)),
    );
    listening.catch(() => {}); // rejects only when stopped before it connected
    if (!(await within(listening, CONNECT_WAIT_MS))) {
      process.emitWarning(`${name} change feed could not connect within ${CONNECT_WAIT_MS} ms; it keeps trying`, { code: 'SOJOURN_REDIS_FEED_DOWN' });
    }
    listened = true;
    let closing: Promise<void> | undefined;
    return () => (closing ??= unsubscribe(subscriber, timers));
  };
}

// ---------------------------------------------------------------------------------------

/** Delivers a change at once and, for a write, once more after `REDELIVER_MS`. */
function heard(change: SessionChange | undefined, deliver: (change: SessionChange) => void, timers: Set<NodeJS.Timeout>): void {
  if (!change) return;
  deliver(change);
  if (change === 'all' || change.gone) return;
  const timer = setTimeout(() => {
    timers.delete(timer);
    deliver(change);
  }, REDELIVER_MS).unref();
  timers.add(timer);
}

/**
 * Whether `pending` settled within `ms`. node-redis retries a first connection forever: with
 * Redis down at start-up the feed goes on connecting in the background (start-up must not hang).
 */
async function within(pending: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false).unref()));
  try {
    return await Promise.race([pending.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function unsubscribe(subscriber: RedisSubscriber, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  if (subscriber.isReady) {
    await subscriber.close().catch(() => subscriber.destroy());
  } else {
    subscriber.destroy(); // reconnecting: close() would wait for a server that may never answer
  }
}

/** The change another instance published, or `undefined` for our own messages and for junk. */
function parseChange(message: string, self: string): SessionChange | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { from, all, ids, gone } = parsed as Record<string, unknown>;
  if (from === self) return undefined;
  if (all === true) return 'all';
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string') || ids.length === 0) return undefined;
  return { ids: ids as string[], gone: gone === true };
}
