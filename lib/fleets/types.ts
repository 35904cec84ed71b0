/**
 * The fleet contract: what the instances of one application share besides the store. The manager
 * builds on it the change feed that keeps every in-process cache coherent (revocations refused
 * everywhere before a revoke returns), session messages across instances, and the cleanup lock.
 * Implementations: `memoryFleet()` (this process), `redisFleet({ client })`, `postgresFleet({ pool })`.
 * A fleet moves strings; the manager makes and parses them.
 */

/** Called with each message as published, and the topic it came on. */
export type TopicListener = (message: string, topic: string) => void;

/** What `subscribe` returns: the unsubscribe (idempotent), and when delivery has begun. */
export interface TopicSubscription {
  (): void;
  /** Resolves once messages published from now on reach the listener (Redis: SUBSCRIBE answered). Never rejects. */
  readonly ready: Promise<void>;
}

export interface SessionFleet {
  readonly name: string;
  /**
   * Opens what the fleet listens with (one subscriber connection per process) and reports, now
   * and on every change, whether messages from other instances reach this one. Called once by
   * the manager; resolves once listening, or once it gave up waiting and goes on in the background.
   */
  start(onListening: (listening: boolean) => void): Promise<void>;
  /**
   * Delivers `message` to every listener of `topic` on every instance. Resolves to how many
   * instances listen on the topic, this one included (`memoryFleet` counts listeners: the manager
   * listens once per instance on its own topics), or `undefined` when the backend cannot tell.
   */
  publish(topic: string, message: string): Promise<number | undefined>;
  /** Adds a listener; the fleet listens to a topic once per process however many listeners it has. */
  subscribe(topic: string, listener: TopicListener): TopicSubscription;
  /**
   * A fleet-wide lock held for at most `ttlMs` (the cleanup job runs on one instance at a time).
   * Resolves to its release, or `undefined` when another instance holds it.
   */
  lock(name: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Listeners held now (a leak gauge). */
  readonly listenerCount: number;
  /** Topics with at least one listener now. */
  readonly topicCount: number;
  /** Releases what the fleet opened (never the client or pool it was given). Called by `manager.close()`. */
  close(): Promise<void>;
}
