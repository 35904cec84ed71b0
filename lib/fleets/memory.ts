import { TopicListeners } from './listeners.js';
import type { SessionFleet, TopicSubscription } from './types.js';

/**
 * The default fleet: the managers of this process only (share one `memoryFleet()` between them
 * to make them one fleet). Delivery is synchronous, in subscription order; a listener that throws
 * is reported (`SOJOURN_MESSAGE_LISTENER`) and the others still run. Locks are held in memory.
 */
export function memoryFleet(): SessionFleet {
  const listeners = new TopicListeners();
  /** lock name → until (epoch ms of this process's clock). */
  const locks = new Map<string, number>();
  return {
    name: 'memory',
    async start(onListening) {
      onListening(true);
    },
    async publish(topic, message) {
      const count = listeners.count(topic);
      listeners.deliver(topic, message);
      return count;
    },
    subscribe(topic, listener) {
      const { unsubscribe } = listeners.add(topic, listener);
      return Object.assign(unsubscribe, { ready: READY }) satisfies TopicSubscription;
    },
    async lock(name, ttlMs) {
      const now = Date.now();
      if ((locks.get(name) ?? 0) > now) return undefined;
      const until = now + ttlMs;
      locks.set(name, until);
      return async () => {
        if (locks.get(name) === until) locks.delete(name);
      };
    },
    get listenerCount() {
      return listeners.listenerCount;
    },
    get topicCount() {
      return listeners.topicCount;
    },
    async close() {},
  };
}

const READY = Promise.resolve();
