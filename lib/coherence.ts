import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import type { CacheChain } from './caches/chain.js';
import { reason, warn } from './environment.js';
import type { SessionFleet } from './fleets/types.js';

/** What one instance tells the others: records written (with their new versions), records gone, or everything. */
export type Change =
  | { readonly kind: 'write'; readonly ids: readonly string[]; readonly versions: readonly number[]; readonly superseded?: true }
  | { readonly kind: 'gone'; readonly ids: readonly string[] }
  | { readonly kind: 'all' };

export interface CoherenceParts {
  readonly fleet: SessionFleet;
  /** The in-process cache layers: what other instances' changes must reach. */
  readonly local: CacheChain;
  readonly clock: () => number;
  /** How long a revoked id is remembered as missing. */
  readonly cacheTtl: number;
  /** How long an announcement waits for every instance. */
  readonly timeout: number;
}

export interface Coherence {
  start(): Promise<void>;
  /**
   * Tells every other instance about a change this one made (and already wrote to its caches);
   * resolves once each has applied it (or after `timeout`, with a warning).
   */
  announce(change: Change): Promise<void>;
  /** Whether in-process caches may answer: the fleet is heard (a lost subscriber could hide a revoke). */
  readonly trusted: boolean;
  /** Whether an entry of `version` for `id` is older than what this instance heard was written (or revoked). */
  outdated(id: string, version: number): boolean;
  /** Calls `listener` with each change applied here, from this instance or another; returns the unsubscribe. */
  onChange(listener: (change: Change) => void): () => void;
  stop(): Promise<void>;
}

const CHANGES = '~changes';
const IDS_PER_MESSAGE = 100; // keeps each message under NOTIFY's 8000 bytes
const HEARTBEAT_MS = 500;
/** How long `start()` waits to hear itself through the fleet before going on (caches bypassed meanwhile). */
const START_WAIT_MS = 5_000;
/** Without a heartbeat heard for this long, the subscriber is taken for lost (silently, e.g. a cut network). */
const HEARTBEAT_LOST_MS = 3 * HEARTBEAT_MS;

/**
 * The change feed over the fleet. Every change is applied to this instance's in-process caches and
 * announced on one topic, and the announcement waits until every listening instance confirmed it
 * applied it (acks on each instance's own topic): a revoked token is refused everywhere, and a
 * write seen everywhere, before the call returns. While the fleet is not heard (disconnected, or its own heartbeat not
 * coming back), in-process caches are bypassed; once heard again they are emptied (changes may
 * have been missed) and trusted again.
 */
export function createCoherence({ fleet, local, clock, cacheTtl, timeout }: CoherenceParts): Coherence {
  const instance = randomUUID();
  const mine = `~instance:${instance}`;
  const listeners = new Set<(change: Change) => void>();
  /** id → the newest version heard of (Infinity: revoked); versions only grow, so an old floor never blocks a newer entry. */
  const floors = new LRUCache<string, number>({ max: 10_000 });
  /** Announcements in flight: acks received, acks expected once PUBLISH told how many listen. */
  const waiting = new Map<string, { received: number; expected: number; done: () => void }>();
  const subscriptions: (() => void)[] = [];
  let listening = false;
  let echoed = false;
  let lastHeard = -Infinity;
  let heartbeat: NodeJS.Timeout | undefined;
  let heardFirst = () => {};
  const firstEcho = new Promise<void>((resolve) => (heardFirst = resolve));

  /** Records floors and tells the listeners; a change heard from another instance also reaches the in-process caches. */
  function apply(change: Change, heard: boolean): void {
    const now = clock();
    if (change.kind === 'gone') for (const id of change.ids) floors.set(id, Infinity);
    if (change.kind === 'write') change.ids.forEach((id, i) => floors.set(id, Math.max(floors.get(id) ?? 0, change.versions[i]!)));
    if (heard && change.kind === 'all') void local.clear();
    if (heard && change.kind === 'gone') void local.setMissing(change.ids, now + cacheTtl, now);
    if (heard && change.kind === 'write') void local.delete(change.ids);
    for (const listener of listeners) listener(change);
  }

  /** Another instance's change (or our own coming back: applied already, only acknowledged). */
  function heard(text: string): void {
    const message = parse(text);
    if (!message) return;
    if (message.from !== instance) apply(message.change, true);
    if (message.ack) void fleet.publish(`~instance:${message.from}`, JSON.stringify({ ack: message.ack })).catch(ignore);
  }

  /** Acks for our announcements, and our heartbeat coming back. */
  function heardMine(text: string): void {
    const { ack, beat } = JSON.parse(text) as { ack?: string; beat?: boolean };
    if (beat) {
      lastHeard = performance.now();
      if (listening && !echoed) {
        echoed = true;
        void local.clear(); // changes published while we were not heard are lost
        heardFirst();
      }
    } else if (ack) {
      const pending = waiting.get(ack);
      if (pending && ++pending.received >= pending.expected) pending.done();
    }
  }

  const beat = () => void fleet.publish(mine, BEAT).catch(ignore);

  async function publish(change: Change): Promise<void> {
    const ack = randomUUID();
    let done = () => {};
    const all = new Promise<void>((resolve) => (done = resolve));
    const pending = { received: 0, expected: Infinity, done };
    waiting.set(ack, pending); // before publishing: acks may come back before PUBLISH is answered
    try {
      const receivers = await fleet.publish(CHANGES, JSON.stringify({ from: instance, change, ack }));
      if (receivers === undefined) return;
      pending.expected = receivers;
      if (pending.received >= receivers) return;
      const timer = setTimeout(() => {
        warn('SOJOURN_FLEET_TIMEOUT', `${receivers - pending.received} instance(s) did not confirm a ${change.kind} change within ${timeout} ms`);
        done();
      }, timeout);
      await all;
      clearTimeout(timer);
    } finally {
      waiting.delete(ack);
    }
  }

  return {
    async start() {
      subscriptions.push(fleet.subscribe(CHANGES, heard), fleet.subscribe(mine, heardMine));
      // Bounded by the fleet (it goes on connecting in the background): start-up must not hang.
      await fleet.start((now) => {
        listening = now;
        echoed = false;
        if (now) beat();
      });
      beat();
      heartbeat = setInterval(beat, HEARTBEAT_MS).unref();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([firstEcho, new Promise((resolve) => (timer = setTimeout(resolve, START_WAIT_MS).unref()))]);
      clearTimeout(timer);
    },
    async announce(change) {
      apply(change, false);
      const batches = change.kind === 'all' ? [change] : chunks(change);
      try {
        await Promise.all(batches.map((batch) => publish(batch)));
      } catch (error) {
        // Applied here and in the store: the others keep their in-process entries until `cacheTtl`.
        warn('SOJOURN_FLEET_DOWN', `could not announce a ${change.kind} change to the other instances (${reason(error)})`);
      }
    },
    get trusted() {
      return listening && echoed && performance.now() - lastHeard < HEARTBEAT_LOST_MS;
    },
    outdated: (id, version) => (floors.get(id) ?? -1) > version,
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async stop() {
      clearInterval(heartbeat);
      for (const unsubscribe of subscriptions.splice(0)) unsubscribe();
      for (const pending of waiting.values()) pending.done();
    },
  };
}

// ---------------------------------------------------------------------------------------

const BEAT = JSON.stringify({ beat: true });

function ignore(): void {}

function chunks(change: Extract<Change, { ids: readonly string[] }>): Change[] {
  const out: Change[] = [];
  for (let at = 0; at < change.ids.length; at += IDS_PER_MESSAGE) {
    const ids = change.ids.slice(at, at + IDS_PER_MESSAGE);
    out.push(change.kind === 'gone' ? { kind: 'gone', ids } : { ...change, ids, versions: change.versions.slice(at, at + IDS_PER_MESSAGE) });
  }
  return out;
}

function parse(text: string): { from: string; change: Change; ack?: string } | undefined {
  try {
    const message = JSON.parse(text) as { from?: unknown; change?: Change; ack?: unknown };
    if (typeof message.from !== 'string' || typeof message.change !== 'object' || message.change === null) return undefined;
    return { from: message.from, change: message.change, ack: typeof message.ack === 'string' ? message.ack : undefined };
  } catch {
    return undefined;
  }
}
