import { reason, warn } from '../environment.js';
import type { TopicListener } from './types.js';

/**
 * The listeners of each topic, for every fleet. Counted per topic: a shared fleet subscribes
 * upstream when a topic gets its first listener (`add` says so) and unsubscribes when it loses its
 * last (`onEmpty`).
 */
export class TopicListeners {
  readonly #topics = new Map<string, Set<TopicListener>>();
  #count = 0;

  get listenerCount(): number {
    return this.#count;
  }

  get topicCount(): number {
    return this.#topics.size;
  }

  /** How many listeners `topic` has. */
  count(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /**
   * Adds `listener` (the same function twice is two subscriptions). Returns the idempotent
   * unsubscribe, which calls `onEmpty` when it removed the topic's last listener, and whether this
   * was the topic's first listener.
   */
  add(topic: string, listener: TopicListener, onEmpty?: () => void): { unsubscribe: () => void; first: boolean } {
    let held = this.#topics.get(topic);
    const first = !held;
    if (!held) this.#topics.set(topic, (held = new Set()));
    const set = held;
    const own: TopicListener = (message, from) => listener(message, from);
    set.add(own);
    this.#count++;
    let done = false;
    const unsubscribe = () => {
      if (done) return;
      done = true;
      this.#count--;
      set.delete(own);
      if (set.size > 0 || this.#topics.get(topic) !== set) return;
      this.#topics.delete(topic);
      onEmpty?.();
    };
    return { unsubscribe, first };
  }

  /** Hands `message` to the topic's listeners; a copy of the set, so they may unsubscribe meanwhile. */
  deliver(topic: string, message: string): void {
    const listeners = this.#topics.get(topic);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(message, topic);
      } catch (error) {
        warn('SOJOURN_MESSAGE_LISTENER', `a message listener threw: ${reason(error)}`);
      }
    }
  }

  clear(): void {
    this.#topics.clear();
    this.#count = 0;
  }
}
