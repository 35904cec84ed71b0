/**
 * `session.messages.stream(channel)`: an async iterator over a channel's messages. A consumer
 * slower than the producers gets a bounded buffer: when it is full the oldest message is dropped
 * and `dropped` counts it (a live feed wants the latest state, not a backlog that grows without
 * bound). It ends when the caller stops iterating (`break`, `return()`) or the session closes;
 * messages already buffered at close are still yielded, then it is done.
 */
export interface MessageStream<T = unknown> extends AsyncIterableIterator<T> {
  /** Messages dropped because the buffer was full (the oldest go first). */
  readonly dropped: number;
  /** Messages waiting to be read. */
  readonly buffered: number;
  /** Resolves once messages posted from now on are delivered (Redis: SUBSCRIBE answered). */
  readonly ready: Promise<void>;
  /** Stops listening and ends the iteration; buffered messages are discarded. Idempotent. */
  return(): Promise<IteratorResult<T, undefined>>;
}

/** The stream and the two ends its owner drives: `push` a message, `end` (the session closed). */
export interface StreamControl<T> {
  readonly stream: MessageStream<T>;
  push(message: T): void;
  end(): void;
}

/** `stop` removes the subscription; it is called once, by `return()` (the owner calls it itself at close). */
export function createMessageStream<T>(limit: number, ready: Promise<void>, stop: () => void): StreamControl<T> {
  const buffer: T[] = [];
  const waiting: ((result: IteratorResult<T, undefined>) => void)[] = [];
  let dropped = 0;
  let done = false;
  const finished = (): IteratorResult<T, undefined> => ({ done: true, value: undefined });
  const end = () => {
    if (done) return;
    done = true;
    for (const wake of waiting.splice(0)) wake(finished());
  };
  const stream: MessageStream<T> = {
    get dropped() {
      return dropped;
    },
    get buffered() {
      return buffer.length;
    },
    ready,
    async next() {
      if (buffer.length > 0) return { done: false, value: buffer.shift()! };
      if (done) return finished();
      return new Promise((wake) => waiting.push(wake));
    },
    async return() {
      buffer.length = 0;
      end();
      stop();
      return finished();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return {
    stream,
    push(message) {
      if (done) return;
      const wake = waiting.shift();
      if (wake) return wake({ done: false, value: message });
      buffer.push(message);
      if (buffer.length > limit) {
        buffer.shift();
        dropped++;
      }
    },
    end,
  };
}
