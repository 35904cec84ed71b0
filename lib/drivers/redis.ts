import { createHash } from 'node:crypto';
import { SessionConfigError } from '../errors.js';

/**
 * The part of a node-redis (v5/v6) client sojourn uses, as a structural type: any
 * `createClient()` result fits, whatever modules, scripts or RESP version it was made with, and
 * loading sojourn never loads the driver. Commands go through `sendCommand` (raw, so the client's
 * own `keyPrefix` does not apply: use sojourn's `prefix` option).
 */
export interface RedisClient {
  /** Connected and ready: commands are refused while it is not, instead of queuing offline. */
  readonly isReady: boolean;
  sendCommand<T = unknown>(args: readonly string[]): Promise<T>;
  /** A second connection with the same options: the fleet subscribes on it. */
  duplicate(): RedisSubscriber;
}

/** The duplicated connection the fleet listens on. */
export interface RedisSubscriber {
  readonly isReady: boolean;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready' | 'end', listener: () => void): unknown;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/** What every sojourn backend on Redis (store, cache, fleet) does with the client it was given. */
export interface RedisDriver {
  readonly client: RedisClient;
  /** Sends one command; fails at once while the client is not connected (never queues offline). */
  send<T>(args: readonly (string | number)[]): Promise<T>;
  /** Runs a Lua script by its SHA1, loading it on the first NOSCRIPT (a new or flushed server). */
  run<T>(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<T>;
}

/** A Lua script: Redis runs it atomically, so a record and its indexes stay in step. */
export class Script {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

/**
 * Validates the options every Redis backend shares (`SessionConfigError`s name the option as
 * `factory.option`) and wraps the client.
 */
export function redisDriver(factory: string, options: unknown, defaults: { prefix: string }): { driver: RedisDriver; prefix: string } {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError(factory, 'needs an options object with a `client`');
  const { client, prefix = defaults.prefix } = options as { client?: unknown; prefix?: unknown };
  const usable = typeof client === 'object' && client !== null && ['sendCommand', 'duplicate'].every((m) => typeof (client as Record<string, unknown>)[m] === 'function');
  if (!usable) throw new SessionConfigError(`${factory}.client`, "must be a node-redis client (createClient() from 'redis')");
  if (typeof prefix !== 'string') throw new SessionConfigError(`${factory}.prefix`, 'must be a string');
  return { driver: wrap(client as RedisClient, factory), prefix };
}

// ---------------------------------------------------------------------------------------

function wrap(client: RedisClient, name: string): RedisDriver {
  // node-redis would queue a command until it reconnects: a request would hang instead of falling
  // back (cache) or answering 503 (store).
  const send = <T>(args: readonly (string | number)[]): Promise<T> => {
    if (!client.isReady) return Promise.reject(new Error(`sojourn: ${name}: the redis client is not connected`));
    return client.sendCommand<T>(args.map(String));
  };
  return {
    client,
    send,
    async run<T>(script: Script, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
      const tail = [keys.length, ...keys, ...args];
      try {
        return await send<T>(['EVALSHA', script.sha, ...tail]);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return send<T>(['EVAL', script.source, ...tail]);
      }
    },
  };
}
