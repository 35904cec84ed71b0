import { createHash, randomUUID } from 'node:crypto';

/**
 * The part of a node-redis (v5/v6) client sojourn uses, as a structural type: any
 * `createClient()` result fits, whatever modules, scripts or RESP version it was made with, and
 * loading sojourn never loads the driver. Commands go through `sendCommand` (raw, so the
 * client's own `keyPrefix` does not apply: use sojourn's `prefix` option).
 */
export interface RedisClient {
  /** Connected and ready: commands are refused while it is not, instead of queuing offline. */
  readonly isReady: boolean;
  sendCommand<T = unknown>(args: readonly string[]): Promise<T>;
  /** A second connection with the same options: the change feed subscribes on it. */
  duplicate(): RedisSubscriber;
}

/** The duplicated connection the change feed (and the message bus) listens on. */
export interface RedisSubscriber {
  readonly isReady: boolean;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  close(): Promise<void>;
  destroy(): void;
}

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on the first NOSCRIPT (a new or flushed
 * server). Lua keeps a record and its indexes in step: Redis runs a script atomically.
 */
export class Script {
  readonly source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run<T>(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand<T>(['EVALSHA', this.#sha, ...tail]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.sendCommand<T>(['EVAL', this.source, ...tail]);
    }
  }
}

/**
 * Fails at once when the client is not connected. node-redis would otherwise queue the command
 * until it reconnects, and a request would hang instead of falling back (cache) or answering 503
 * (store).
 */
export function assertReady(client: RedisClient, name: string): void {
  if (!client.isReady) throw new Error(`sojourn: ${name}: the redis client is not connected`);
}

const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** SET NX PX with a random token; the release deletes the key only while it still holds that token. */
export async function takeLock(client: RedisClient, name: string, key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined> {
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new TypeError(`sojourn: ${name}: lock ttl must be a positive integer of ms`);
  assertReady(client, name);
  const token = randomUUID();
  const taken = await client.sendCommand(['SET', key, token, 'NX', 'PX', String(ttlMs)]);
  if (taken !== 'OK') return undefined;
  let released: Promise<void> | undefined;
  return () => (released ??= RELEASE.run(client, [key], [token]).then(() => {}));
}

/** Validates the options every Redis backend shares; `TypeError`s name the option. */
export function resolveRedisOptions(
  name: string,
  options: { client?: unknown; prefix?: unknown; channel?: unknown },
  defaults: { prefix: string; channel?: string },
): { client: RedisClient; prefix: string; channel: string | false } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`sojourn: ${name} needs an options object with a \`client\``);
  const { client, prefix = defaults.prefix } = options;
  const usable = typeof client === 'object' && client !== null &&
    ['sendCommand', 'duplicate'].every((m) => typeof (client as Record<string, unknown>)[m] === 'function');
  if (!usable) throw new TypeError(`sojourn: ${name} option \`client\` must be a node-redis client (createClient() from 'redis')`);
  if (typeof prefix !== 'string') throw new TypeError(`sojourn: ${name} option \`prefix\` must be a string`);
  // Backends without a change feed (no default channel) have no `channel` option.
  const channel = defaults.channel === undefined ? false : options.channel === undefined ? defaults.channel : options.channel;
  if (channel !== false && (typeof channel !== 'string' || channel.length === 0)) {
    throw new TypeError(`sojourn: ${name} option \`channel\` must be a non-empty string or false`);
  }
  return { client: client as RedisClient, prefix, channel };
}
