import type { Notification, Pool, PoolClient } from 'pg';
import { reason, warn } from '../environment.js';
import { SessionConfigError } from '../errors.js';
import { advisoryLock } from '../drivers/postgres.js';
import { TopicListeners } from './listeners.js';
import type { SessionFleet, TopicSubscription } from './types.js';

export interface PostgresFleetOptions {
  /** Your `pg` Pool: the fleet keeps one of its connections for `LISTEN` (and one per held lock). Never ended. */
  pool: Pool;
  /** The `LISTEN`/`NOTIFY` channel: letters, digits and `_`. @default 'sojourn_fleet' */
  channel?: string;
}

/** NOTIFY refuses payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7_999;
const RECONNECT_MS = 1_000;
/** First key of the shared advisory lock each listening connection holds: counting them counts the instances. */
const PRESENCE = 0x736a726e;

/**
 * The fleet on PostgreSQL alone: `LISTEN`/`NOTIFY` on one pooled connection per process (every
 * topic on one channel, dispatched here), session-level advisory locks, and a shared advisory lock
 * on the listening connection, so a publisher learns how many instances listen (`pg_locks`).
 * Messages over 7,999 bytes are refused (NOTIFY's limit).
 */
export function postgresFleet(options: PostgresFleetOptions): SessionFleet {
  const { pool, channel = 'sojourn_fleet' } = options ?? ({} as PostgresFleetOptions);
  if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function') {
    throw new SessionConfigError('postgresFleet.pool', 'must be a pg Pool (with `query` and `connect`)');
  }
  if (typeof channel !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(channel)) {
    throw new SessionConfigError('postgresFleet.channel', 'must be letters, digits and _ (not starting with a digit), at most 63 characters');
  }
  const presence = [PRESENCE, keyOf(channel)] as const;
  const listeners = new TopicListeners();
  const locks = new Set<() => Promise<void>>();
  let listener: PoolClient | undefined;
  let listening: Promise<void> | undefined;
  let report: (listening: boolean) => void = () => {};
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const heard = (notification: Notification) => {
    if (notification.channel !== channel || notification.payload === undefined) return;
    const parsed = parse(notification.payload);
    if (parsed) listeners.deliver(parsed.t, parsed.m);
  };

  async function listen(): Promise<void> {
    const client = await pool.connect();
    client.on('notification', heard);
    client.on('error', (error) => lost(client, error));
    try {
      await client.query(`LISTEN "${channel}"`);
      await client.query('SELECT pg_advisory_lock_shared($1, $2)', [...presence]);
    } catch (error) {
      lost(client, error);
      throw error;
    }
    listener = client;
    report(true);
  }

  /** The listening connection broke: it goes back to the pool destroyed, and a new one is tried. */
  function lost(client: PoolClient, error: unknown): void {
    if (listener !== client && listener !== undefined) return;
    listener = undefined;
    client.removeAllListeners('notification');
    client.release(error instanceof Error ? error : new Error(String(error)));
    report(false);
    warn('SOJOURN_FLEET_DOWN', `postgresFleet lost its listening connection (${reason(error)}); in-process caches are bypassed until it is back`);
    if (!closed) retry = setTimeout(() => void reconnect(), RECONNECT_MS).unref();
  }

  async function reconnect(): Promise<void> {
    listening = listen();
    await listening.catch(() => {}); // lost() scheduled the next try
  }

  return {
    name: 'postgres',
    async start(onListening) {
      report = onListening;
      listening ??= listen();
      await listening.catch((error: unknown) => {
        warn('SOJOURN_FLEET_DOWN', `postgresFleet could not listen (${reason(error)}); it keeps trying`);
      });
    },
    async publish(topic, message) {
      const payload = JSON.stringify({ t: topic, m: message });
      if (Buffer.byteLength(payload) > MAX_PAYLOAD) throw new Error(`sojourn: postgresFleet: a message on ${topic} is over NOTIFY's ${MAX_PAYLOAD + 1} bytes`);
      const { rows } = await pool.query<{ n: number }>(
        `SELECT pg_notify($1, $2), (SELECT count(*)::int FROM pg_locks
           WHERE locktype = 'advisory' AND classid = $3 AND objid = $4 AND objsubid = 2 AND granted) AS n`,
        [channel, payload, ...presence],
      );
      return rows[0]?.n;
    },
    subscribe(topic, listener) {
      const { unsubscribe } = listeners.add(topic, listener);
      return Object.assign(unsubscribe, { ready: (listening ?? READY).catch(() => {}) }) satisfies TopicSubscription;
    },
    async lock(name, _ttlMs) {
      // No ttl needed: the lock lives as long as its connection, so a crashed holder releases it.
      const release = await advisoryLock(pool, `sojourn:${channel}:${name}`);
      if (!release) return undefined;
      const once = async () => {
        if (locks.delete(once)) await release();
      };
      locks.add(once);
      return once;
    },
    get listenerCount() {
      return listeners.listenerCount;
    },
    get topicCount() {
      return listeners.topicCount;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await Promise.all([...locks].map((release) => release()));
      await listening?.catch(() => {});
      const client = listener;
      listener = undefined;
      listeners.clear();
      if (!client) return;
      client.removeAllListeners('notification');
      try {
        // Back in the pool, the connection must not keep counting as a listening instance.
        await client.query(`UNLISTEN "${channel}"`);
        await client.query('SELECT pg_advisory_unlock_shared($1, $2)', [...presence]);
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------

const READY = Promise.resolve();

function parse(payload: string): { t: string; m: string } | undefined {
  try {
    const { t, m } = JSON.parse(payload) as { t?: unknown; m?: unknown };
    return typeof t === 'string' && typeof m === 'string' ? { t, m } : undefined;
  } catch {
    return undefined;
  }
}

/** A positive int4 from the channel name, the second key of the presence lock. */
function keyOf(text: string): number {
  let hash = 0;
  for (const char of text) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash & 0x7fffffff;
}
