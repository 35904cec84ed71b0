import { createMessageStream, type MessageStream, type StreamControl } from './stream.js';
import { channelName, type BusSubscription, type MessageBus } from './types.js';

/** A subscription's listener: the message (a fresh JSON copy for each listener) and its channel. */
export type MessageListener<T = unknown> = (message: T, channel: string) => void;

/** What `subscribe` returns: call it to unsubscribe (idempotent, also after the session closed). */
export interface Unsubscribe {
  (): void;
  /** Resolves once messages posted from now on reach the listener (Redis: SUBSCRIBE answered). */
  readonly ready: Promise<void>;
}

/** The manager's side: one bus, JSON in and out. */
export interface MessageHub {
  readonly bus: MessageBus;
  /** Default buffer of `stream()`. */
  readonly buffer: number;
  /** Posts `message` (JSON-serialisable; `TypeError` otherwise) on `channel`. */
  post(channel: string, message: unknown): Promise<void>;
  /** Listens on `channel`; the caller must unsubscribe (sessions do it for you). */
  listen<T>(channel: string, listener: MessageListener<T>): BusSubscription;
}

export function createMessageHub(bus: MessageBus, buffer: number): MessageHub {
  return {
    bus,
    buffer,
    post(channel, message) {
      const text = serialize(message);
      return bus.publish(channelName(channel), text);
    },
    listen<T>(channel: string, listener: MessageListener<T>) {
      if (typeof listener !== 'function') throw new TypeError('sojourn: a message listener must be a function');
      return bus.subscribe(channelName(channel), (text, from) => {
        let message: T;
        try {
          message = JSON.parse(text) as T;
        } catch {
          return; // not posted by sojourn
        }
        listener(message, from);
      });
    },
  };
}

/** Sessions call this at close; not public API. */
export const CLOSE_ALL = Symbol('sojourn.messages.closeAll');

export interface StreamOptions {
  /** Messages held for a slow consumer before the oldest is dropped. @default the manager's `messages.buffer` (100) */
  buffer?: number;
}

/**
 * `session.messages`: publish/subscribe that lives and dies with the session. Every subscription
 * and stream made here is removed when the session closes, or earlier by its own unsubscribe.
 */
export class SessionMessages {
  readonly #hub: MessageHub;
  readonly #assertOpen: (member: string) => void;
  readonly #held = new Set<() => void>();

  constructor(hub: MessageHub, assertOpen: (member: string) => void) {
    this.#hub = hub;
    this.#assertOpen = assertOpen;
  }

  /** Posts to every subscriber of `channel` (every instance with a shared bus). Resolves once published. */
  post(channel: string, message: unknown): Promise<void> {
    this.#assertOpen('messages.post');
    return this.#hub.post(channel, message);
  }

  subscribe<T = unknown>(channel: string, listener: MessageListener<T>): Unsubscribe {
    this.#assertOpen('messages.subscribe');
    const subscription = this.#hub.listen(channel, listener);
    const unsubscribe = () => {
      this.#held.delete(unsubscribe);
      subscription();
    };
    this.#held.add(unsubscribe);
    return Object.assign(unsubscribe, { ready: subscription.ready });
  }

  /** An async iterator over `channel`, subscribed from now on; see `MessageStream`. */
  stream<T = unknown>(channel: string, options: StreamOptions = {}): MessageStream<T> {
    this.#assertOpen('messages.stream');
    const limit = options.buffer ?? this.#hub.buffer;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('sojourn: messages.stream option `buffer` must be an integer of at least 1');
    let control: StreamControl<T> | undefined;
    const subscription = this.#hub.listen<T>(channel, (message) => control?.push(message));
    const stop = () => {
      this.#held.delete(end);
      subscription();
    };
    const end = () => {
      stop();
      control?.end();
    };
    control = createMessageStream<T>(limit, subscription.ready, stop);
    this.#held.add(end);
    return control.stream;
  }

  /** The session closed: every subscription goes, every stream ends. */
  [CLOSE_ALL](): void {
    for (const release of [...this.#held]) release();
  }
}

// ---------------------------------------------------------------------------------------

function serialize(message: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(message);
  } catch (cause) {
    throw new TypeError('sojourn: messages.post needs a JSON-serialisable message', { cause });
  }
  if (text === undefined) throw new TypeError(`sojourn: messages.post needs a JSON-serialisable message, got ${typeof message}`);
  return text;
}
