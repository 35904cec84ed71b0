import type { BusListener } from './types.js';

/**
 * The listeners of each channel, for every bus. Reference counted per channel: a shared bus
 * subscribes upstream when a channel gets its first listener (`add` says so) and unsubscribes when
 * it loses its last (`onEmpty`).
 */
export class ChannelListeners {
  readonly #channels = new Map<string, Set<BusListener>>();
  #count = 0;

  get listenerCount(): number {
    return this.#count;
  }

  get channelCount(): number {
    return this.#channels.size;
  }

  /**
   * Adds `listener` (the same function twice is two subscriptions). Returns the idempotent
   * unsubscribe, which calls `onEmpty` when it removed the channel's last listener, and whether
   * this was the channel's first listener.
   */
  add(channel: string, listener: BusListener, onEmpty?: () => void): { unsubscribe: () => void; first: boolean } {
    let held = this.#channels.get(channel);
    const first = !held;
    if (!held) this.#channels.set(channel, (held = new Set()));
    const set = held;
    const own: BusListener = (message, from) => listener(message, from);
    set.add(own);
    this.#count++;
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.#count--;
      set.delete(own);
      if (set.size > 0 || this.#channels.get(channel) !== set) return;
      this.#channels.delete(channel);
      onEmpty?.();
    };
    return { unsubscribe, first };
  }

  /** Hands `message` to the channel's listeners; a copy of the set, so they may unsubscribe meanwhile. */
  deliver(channel: string, message: string): void {
    const listeners = this.#channels.get(channel);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(message, channel);
      } catch (error) {
        process.emitWarning(`a message listener threw: ${error instanceof Error ? error.message : String(error)}`, { code: 'SOJOURN_MESSAGE_LISTENER' });
      }
    }
  }

  clear(): void {
    this.#channels.clear();
    this.#count = 0;
  }
}
