import type { RedisClient, RedisSubscriber } from '../redis/client.js';
import { assertReady, resolveRedisOptions } from '../redis/client.js';
import { ChannelListeners } from './listeners.js';
import type { BusSubscription, MessageBus } from './types.js';

export interface RedisBusOptions {
  /** A connected node-redis v5/v6 client: it publishes; a duplicate of it subscribes. Never closed by sojourn. */
  client: RedisClient;
  /** Prefix of every Redis channel name. @default 'sojourn:messages:' */
  prefix?: string;
}

const NAME = 'redisBus';

/**
 * Session messages across instances through Redis pub/sub. One dedicated duplicate connection
 * per bus (one bus per manager, so one per process), opened on the first subscription, and one
 * SUBSCRIBE per channel however many local listeners it has (reference counted: the last one
 * gone sends UNSUBSCRIBE). A message posted here reaches local listeners through Redis too, so
 * every listener sees the same order. Redis pub/sub is at most once: a message published while
 * the subscriber is reconnecting is lost.
 */
export function redisBus(options: RedisBusOptions): MessageBus {
  const { client, prefix } = resolveRedisOptions(NAME, options, { prefix: 'sojourn:messages:' });
  const listeners = new ChannelListeners();
  /** The SUBSCRIBE of each channel, for listeners that join before it is answered. */
  const subscribed = new Map<string, Promise<void>>();
  let subscriber: Promise<RedisSubscriber> | undefined;
  /** Commands on the subscriber run in call order (a SUBSCRIBE never overtakes an earlier UNSUBSCRIBE). */
  let queue: Promise<unknown> = Promise.resolve();
  let closed = false;

  const connection = (): Promise<RedisSubscriber> =>
    (subscriber ??= (async () => {
      const connection = client.duplicate();
      let warned = false;
      connection.on('error', (error) => {
        if (warned) return;
        warned = true;
        process.emitWarning(`${NAME} lost its subscriber connection (${error.message}); messages are lost until it is back`, { code: 'SOJOURN_REDIS_BUS_DOWN' });
      });
      connection.on('ready', () => void (warned = false));
      await connection.connect();
      return connection;
    })());

  /** Runs `command` on the subscriber after every earlier one; failures are warned, never thrown. */
  const enqueue = (what: string, command: (connection: RedisSubscriber) => Promise<void>): Promise<void> => {
    const run = queue.then(async () => {
      if (closed) return;
      try {
        await command(await connection());
      } catch (error) {
        process.emitWarning(`${NAME} could not ${what}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SOJOURN_REDIS_BUS_DOWN' });
      }
    });
    queue = run;
    return run;
  };

  return {
    name: 'redis',
    async publish(channel, message) {
      assertReady(client, NAME);
      await client.sendCommand(['PUBLISH', prefix + channel, message]);
    },
    subscribe(channel, listener) {
      const { unsubscribe, first } = listeners.add(channel, listener, () => {
        subscribed.delete(channel);
        void enqueue(`unsubscribe from ${channel}`, (c) => c.unsubscribe(prefix + channel));
      });
      if (first) {
        const ready = enqueue(`subscribe to ${channel}`, (c) => c.subscribe(prefix + channel, (message) => listeners.deliver(channel, message)));
        subscribed.set(channel, ready);
      }
      return Object.assign(unsubscribe, { ready: subscribed.get(channel) ?? READY }) satisfies BusSubscription;
    },
    get listenerCount() {
      return listeners.listenerCount;
    },
    get channelCount() {
      return listeners.channelCount;
    },
    async close() {
      await queue;
      closed = true;
      listeners.clear();
      subscribed.clear();
      const opened = subscriber;
      subscriber = undefined;
      if (!opened) return;
      const connection = await opened.catch(() => undefined);
      if (!connection) return;
      if (connection.isReady) await connection.close().catch(() => connection.destroy());
      else connection.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------

const READY = Promise.resolve();
