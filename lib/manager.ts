import { cacheChain } from './caches/chain.js';
import { lruCache } from './caches/lru.js';
import type { SessionCache } from './caches/types.js';
import { createCoherence } from './coherence.js';
import { SessionConfigError } from './errors.js';
import { memoryFleet } from './fleets/memory.js';
import type { SessionFleet } from './fleets/types.js';
import { createMessageHub, type MessageHub } from './messages/session.js';
import { OpenSessions } from './open-sessions.js';
import { resolveOptions, type SessionOptions } from './options.js';
import { createSessionService, type SessionService } from './service.js';
import { guardStore } from './stores/guard.js';
import { memoryStore } from './stores/memory.js';
import type { SessionStore } from './stores/types.js';
import { createCleanup } from './tasks/cleanup.js';
import { createFutureCalls, type FutureCalls } from './tasks/future-calls.js';
import { createTokenCodec } from './token/codec.js';

/** The manager: the session service (Vendure's) with its lifecycle, future calls and messages. */
export interface SessionManager extends Omit<SessionService, 'resolve' | 'open' | 'load' | 'onRevoke' | 'opened' | 'closed' | 'messages' | 'codec'> {
  readonly store: SessionStore;
  readonly caches: readonly SessionCache[];
  readonly fleet: SessionFleet;
  /** How many Session objects are open now: a leak gauge. */
  readonly openSessions: number;
  /** Durable work after the request: `register`, `callWithDelay`, `callAtTime`, `every`, `cancel`. */
  readonly futureCalls: FutureCalls;
  /** Session messages outside a session: `publish(topic, message)`, `subscribe` (unsubscribe yourself). */
  readonly messages: MessageHub;
  /** Deletes expired records batch by batch until none is left; returns how many. */
  cleanExpiredSessions(batchSize?: number): Promise<number>;
  /** Starts a cleanup unless one is running (then joins it); resolves to its count. One runner across the fleet. */
  triggerCleanSessionsJob(batchSize?: number): Promise<number>;
  /** Starts future calls and the periodic cleanup (a recurring call on a durable queue), once the fleet listens. Idempotent. */
  start(): Promise<void>;
  /** Stops timers, closes open sessions, waits for a running cleanup, closes the store, caches and fleet. */
  close(): Promise<void>;
}

/** Creates the session service and everything it stands on. */
export function createSessionManager(input: SessionOptions = {}): SessionManager {
  const options = resolveOptions(input);
  const rawStore = options.store ?? memoryStore();
  const layers = options.caches ?? [lruCache()];
  const fleet = options.fleet ?? memoryFleet();
  if (!options.fleet) refuseIncoherentCaches(rawStore, layers);
  const store = guardStore(rawStore, options.storeTimeout);
  const chain = cacheChain(layers, options.cacheTimeout);
  const localLayers = countLocal(layers);
  const local = cacheChain(layers.slice(0, localLayers), options.cacheTimeout);
  const coherence = createCoherence({
    fleet,
    local,
    clock: options.clock,
    cacheTtl: options.cacheTtl,
    timeout: options.fleetTimeout,
  });
  // Listening starts with the manager: forgetting start() must not turn revocation across instances off.
  const listening = coherence.start();
  const open = new OpenSessions();
  const messages = createMessageHub(fleet, options.messageBuffer);
  const codec = createTokenCodec(options.secrets);
  const service = createSessionService({ options, store, chain, localLayers, codec, coherence, messages, open });
  const calls = createFutureCalls(options.futureCalls, options.clock, service);
  const cleanup = createCleanup({
    store,
    local,
    fleet,
    clock: options.clock,
    batchSize: options.cleanupBatchSize,
    interval: options.cleanupInterval,
    futureCalls: calls.futureCalls,
    logs: options.logs.sink,
  });
  const { resolve: _resolve, codec: _codec, open: _open, load: _load, onRevoke: _onRevoke, opened: _opened, closed: _closed, messages: _messages, ...vendure } = service;

  const manager: SessionManager = {
    ...vendure,
    store: rawStore,
    caches: layers,
    fleet,
    messages,
    futureCalls: calls.futureCalls,
    get openSessions() {
      return open.size;
    },
    cleanExpiredSessions: (batchSize) => cleanup.clean(batchSize),
    triggerCleanSessionsJob: (batchSize) => cleanup.trigger(batchSize),
    async start() {
      await listening;
      await calls.start();
      await cleanup.start();
    },
    async close() {
      await calls.stop(); // stops claiming, waits for running calls (their sessions are still open)
      await cleanup.stop();
      await open.closeAll();
      await listening;
      await coherence.stop();
      await fleet.close();
      await Promise.all([rawStore.close?.(), ...layers.map((cache) => cache.close?.())]);
    },
  };
  services.set(manager, service);
  return manager;
}

/** The service behind a manager, for the framework bindings (`sojourn/koa`, `sojourn/websocket`). */
export function serviceOf(manager: SessionManager): SessionService {
  const service = services.get(manager);
  if (!service) throw new TypeError('sojourn: `manager` must come from createSessionManager()');
  return service;
}

// ---------------------------------------------------------------------------------------

const services = new WeakMap<SessionManager, SessionService>();

/** In-process layers come first; the first shared one ends them. */
function countLocal(layers: readonly SessionCache[]): number {
  const shared = layers.findIndex((cache) => cache.shared === true);
  return shared < 0 ? layers.length : shared;
}

/**
 * An in-process cache in front of a shared store or cache would serve a session revoked on another
 * instance until its entry goes stale: without a fleet nothing would tell it. Refused at start.
 */
function refuseIncoherentCaches(store: SessionStore, layers: readonly SessionCache[]): void {
  const shared = [store, ...layers].find((backend) => backend.shared === true);
  const local = layers.find((cache) => cache.shared !== true);
  if (!shared || !local) return;
  throw new SessionConfigError(
    'fleet',
    `is required: the ${local.name} cache in front of the shared ${shared.name} ${shared === store ? 'store' : 'cache'} would keep serving ` +
      'sessions revoked on other instances. Add `fleet: redisFleet({ client })` (sojourn/redis) or `postgresFleet({ pool })` ' +
      '(sojourn/postgres), or `fleet: memoryFleet()` if this process is the only instance',
  );
}
