import type { BusListener, BusSubscription, MessageBus } from './types.js';

const READY = Promise.resolve();

/**
 * The default bus: listeners in this process only. Delivery is synchronous, in subscription
 * order; a listener that throws is reported (`SOJOURN_MESSAGE_LISTENER`) and the others still run.
 */
export function memoryBus(): MessageBus {
  const channels = new Map<string, Set<BusListener>>();
  let listeners = 0;
  return {
    name: 'memory',
    async publish(channel, message) {
      deliver(channels.get(channel), message, channel);
    },
    subscribe(channel, listener) {
      let held = channels.get(channel);
      if (!held) channels.set(channel, (held = new Set()));
      const own: BusListener = (message, from) => listener(message, from); // the same function twice is two subscriptions
      held.add(own);
      listeners++;
      let done = false;
      const unsubscribe = () => {
        if (done) return;
        done = true;
        listeners--;
        held.delete(own);
        if (held.size === 0 && channels.get(channel) === held) channels.delete(channel);
      };
      return Object.assign(unsubscribe, { ready: READY }) satisfies BusSubscription;
    },
    get listenerCount() {
      return listeners;
    },
    get channelCount() {
      return channels.size;
    },
  };
}

/** Hands `message` to each listener; a copy of the set, so listeners may unsubscribe while it runs. */
export function deliver(listeners: ReadonlySet<BusListener> | undefined, message: string, channel: string): void {
  if (!listeners) return;
  for (const listener of [...listeners]) {
    try {
      listener(message, channel);
    } catch (error) {
      process.emitWarning(`a message listener threw: ${error instanceof Error ? error.message : String(error)}`, { code: 'SOJOURN_MESSAGE_LISTENER' });
    }
  }
}
