import { randomUUID } from 'node:crypto';
import { reason, warn } from '../environment.js';
import { SessionConfigError } from '../errors.js';
import { redisDriver, Script, type RedisClient, type RedisSubscriber } from '../drivers/redis.js';
import { TopicListeners } from './listeners.js';
import type { SessionFleet, TopicSubscription } from './types.js';

export interface RedisFleetOptions {
  /** A connected node-redis v5/v6 client: it publishes and locks; one duplicate of it subscribes. Never closed by sojourn. */
  client: RedisClient;
  /** Prefix of every pub/sub channel and lock key. @default 'sojourn:' */
  prefix?: string;
}

/** How long `start()` waits for the subscriber's first connection before it goes on in the background. */
const CONNECT_WAIT_MS = 5_000;

const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/**
 * The fleet on Redis: Redis pub/sub on one duplicated connection per process (opened by
 * `start()`, one SUBSCRIBE per topic however many listeners it has), `PUBLISH` through your
 * client, and the lock as `SET NX PX` released only by its holder. Pub/sub is at most once: while
 * the subscriber reconnects, the manager stops trusting its in-process caches.
 */
export function redisFleet(options: RedisFleetOptions): SessionFleet {
  const { driver, prefix } = redisDriver('redisFleet', options, { prefix: 'sojourn:' });
  const listeners = new TopicListeners();
  const subscribed = new Map<string, Promise<void>>();
  /** The duplicate, from the moment it exists (closing must not wait for a connection that may never come). */
  let opened: RedisSubscriber | undefined;
  let connection: Promise<RedisSubscriber> | undefined;
  let report: (listening: boolean) => void = () => {};
  /** Commands on the subscriber run in call order (a SUBSCRIBE never overtakes an earlier UNSUBSCRIBE). */
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  function subscriber(): Promise<RedisSubscriber> {
    connection ??= (async () => {
      const duplicate = driver.client.duplicate();
      opened = duplicate;
      let down = false;
      duplicate.on('error', (error) => {
        if (down || closed) return;
        down = true;
        report(false);
        warn('SOJOURN_FLEET_DOWN', `redisFleet lost its subscriber connection (${error.message}); in-process caches are bypassed until it is back`);
      });
      duplicate.on('ready', () => {
        down = false;
        report(true);
      });
      await duplicate.connect();
      return duplicate;
    })();
    return connection;
  }

  /** Runs `command` on the subscriber after every earlier one; failures are warned, never thrown. */
  function enqueue(what: string, command: (on: RedisSubscriber) => Promise<void>): Promise<void> {
    const run = queue.then(async () => {
      if (closed) return;
      try {
        await command(await subscriber());
      } catch (error) {
        if (!closed) warn('SOJOURN_FLEET_DOWN', `redisFleet could not ${what}: ${reason(error)}`);
      }
    });
    queue = run;
    return run;
  }

  return {
    name: 'redis',
    async start(onListening) {
      report = onListening;
      const ready = subscriber().then((opened) => opened.isReady && report(true));
      ready.catch(() => {}); // node-redis retries a first connection forever: start-up must not hang
      const timer = new Promise<boolean>((resolve) => setTimeout(resolve, CONNECT_WAIT_MS, false).unref());
      if ((await Promise.race([ready.then(() => true), timer])) === false) {
        warn('SOJOURN_FLEET_DOWN', `redisFleet could not connect within ${CONNECT_WAIT_MS} ms; it keeps trying`);
      }
    },
    async publish(topic, message) {
      return Number(await driver.send(['PUBLISH', prefix + topic, message]));
    },
    subscribe(topic, listener) {
      const { unsubscribe, first } = listeners.add(topic, listener, () => {
        subscribed.delete(topic);
        void enqueue(`unsubscribe from ${topic}`, (on) => on.unsubscribe(prefix + topic));
      });
      if (first) subscribed.set(topic, enqueue(`subscribe to ${topic}`, (on) => on.subscribe(prefix + topic, (message) => listeners.deliver(topic, message))));
      return Object.assign(unsubscribe, { ready: subscribed.get(topic) ?? READY }) satisfies TopicSubscription;
    },
    async lock(name, ttlMs) {
      if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new SessionConfigError('lock ttl', 'must be a positive integer of ms');
      const key = `${prefix}lock:${name}`;
      const token = randomUUID();
      if ((await driver.send(['SET', key, token, 'NX', 'PX', ttlMs])) !== 'OK') return undefined;
      let released: Promise<void> | undefined;
      return () => (released ??= driver.run(RELEASE, [key], [token]).then(() => {}));
    },
    get listenerCount() {
      return listeners.listenerCount;
    },
    get topicCount() {
      return listeners.topicCount;
    },
    async close() {
      closed = true;
      listeners.clear();
      subscribed.clear();
      const on = opened;
      opened = undefined;
      connection = undefined;
      if (!on) return;
      // Down or reconnecting: a graceful close would wait for a server that may never answer.
      if (on.isReady) await on.close().catch(() => on.destroy());
      else on.destroy();
    },
  };
}

const READY = Promise.resolve();
