import { ChannelListeners } from './listeners.js';
import type { BusSubscription, MessageBus } from './types.js';

const READY = Promise.resolve();

/**
 * The default bus: listeners in this process only. Delivery is synchronous, in subscription
 * order; a listener that throws is reported (`SOJOURN_MESSAGE_LISTENER`) and the others still run.
 */
export function memoryBus(): MessageBus {
  const listeners = new ChannelListeners();
  return {
    name: 'memory',
    async publish(channel, message) {
      listeners.deliver(channel, message);
    },
    subscribe(channel, listener) {
      const { unsubscribe } = listeners.add(channel, listener);
      return Object.assign(unsubscribe, { ready: READY }) satisfies BusSubscription;
    },
    get listenerCount() {
      return listeners.listenerCount;
    },
    get channelCount() {
      return listeners.channelCount;
    },
  };
}
