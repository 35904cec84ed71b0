import type { SessionFleet, TopicSubscription } from '../fleets/types.js';
import { createMessageStream, type MessageStream, type StreamControl } from './stream.js';
import { fleetTopic } from './topics.js';

/** A subscription's listener: the message (a fresh JSON copy for each listener) and its topic. */
export type MessageListener<T = unknown> = (message: T, topic: string) => void;

/** What `subscribe` returns: call it to unsubscribe (idempotent, also after the session closed). */
export interface Unsubscribe {
  (): void;
  /** Resolves once messages published from now on reach the listener (Redis: SUBSCRIBE answered). */
  readonly ready: Promise<void>;
}

/** `manager.messages`: session messages outside a session, JSON in and out, over the fleet. */
export interface MessageHub {
  /** Default buffer of `stream()`. */
  readonly buffer: number;
  /** Publishes `message` (JSON-serialisable; `TypeError` otherwise) on `topic`, on every instance of the fleet. */
  publish(topic: string, message: unknown): Promise<void>;
  /** Listens on `topic`; the caller must unsubscribe (sessions do it for you). */
  subscribe<T>(topic: string, listener: MessageListener<T>): Unsubscribe;
  /** Message listeners held now (a leak gauge; the manager's own topics are not counted). */
  readonly listenerCount: number;
  /** Message topics with at least one listener now. */
  readonly topicCount: number;
}

export function createMessageHub(fleet: SessionFleet, buffer: number): MessageHub {
  const counts = new Map<string, number>();
  let listeners = 0;
  return {
    buffer,
    /** Bad input throws at once; the delivery is what the promise waits for. */
    publish(topic, message) {
      const text = serialize(message);
      return fleet.publish(fleetTopic(topic), text).then(() => {});
    },
    subscribe<T>(topic: string, listener: MessageListener<T>): TopicSubscription {
      if (typeof listener !== 'function') throw new TypeError('sojourn: a message listener must be a function');
      const subscription = fleet.subscribe(fleetTopic(topic), (text) => {
        let message: T;
        try {
          message = JSON.parse(text) as T;
        } catch {
          return; // not published by sojourn
        }
        listener(message, topic);
      });
      listeners++;
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
      let done = false;
      const unsubscribe = () => {
        if (done) return;
        done = true;
        listeners--;
        const left = counts.get(topic)! - 1;
        if (left === 0) counts.delete(topic);
        else counts.set(topic, left);
        subscription();
      };
      return Object.assign(unsubscribe, { ready: subscription.ready });
    },
    get listenerCount() {
      return listeners;
    },
    get topicCount() {
      return counts.size;
    },
  };
}

export interface StreamOptions {
  /** Messages held for a slow consumer before the oldest is dropped. @default the manager's `messages.buffer` (100) */
  buffer?: number;
}

/**
 * `session.messages`: publish/subscribe that lives and dies with the session. Every subscription
 * and stream made here is removed when the session closes, or earlier by its own unsubscribe.
 */
export interface SessionMessages {
  /** Publishes to every subscriber of `topic` (every instance of the fleet). Resolves once published. */
  publish(topic: string, message: unknown): Promise<void>;
  subscribe<T = unknown>(topic: string, listener: MessageListener<T>): Unsubscribe;
  /** An async iterator over `topic`, subscribed from now on; see `MessageStream`. */
  stream<T = unknown>(topic: string, options?: StreamOptions): MessageStream<T>;
}

/** A session's messages and the function its close calls (every subscription goes, every stream ends). */
export function createSessionMessages(hub: MessageHub, assertOpen: (member: string) => void): { messages: SessionMessages; closeAll: () => void } {
  const held = new Set<() => void>();
  const messages: SessionMessages = {
    publish(topic, message) {
      assertOpen('messages.publish');
      return hub.publish(topic, message);
    },
    subscribe(topic, listener) {
      assertOpen('messages.subscribe');
      const subscription = hub.subscribe(topic, listener);
      const unsubscribe = () => {
        held.delete(unsubscribe);
        subscription();
      };
      held.add(unsubscribe);
      return Object.assign(unsubscribe, { ready: subscription.ready });
    },
    stream<T>(topic: string, options: StreamOptions = {}) {
      assertOpen('messages.stream');
      const limit = options.buffer ?? hub.buffer;
      if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('sojourn: messages.stream option `buffer` must be an integer of at least 1');
      let control: StreamControl<T> | undefined;
      const subscription = hub.subscribe<T>(topic, (message) => control?.push(message));
      const stop = () => {
        held.delete(end);
        subscription();
      };
      const end = () => {
        stop();
        control?.end();
      };
      control = createMessageStream<T>(limit, subscription.ready, stop);
      held.add(end);
      return control.stream;
    },
  };
  return { messages, closeAll: () => [...held].forEach((release) => release()) };
}

// ---------------------------------------------------------------------------------------

function serialize(message: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(message);
  } catch (cause) {
    throw new TypeError('sojourn: messages.publish needs a JSON-serialisable message', { cause });
  }
  if (text === undefined) throw new TypeError(`sojourn: messages.publish needs a JSON-serialisable message, got ${typeof message}`);
  return text;
}
