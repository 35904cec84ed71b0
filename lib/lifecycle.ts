import type { SessionState } from './types.js';

export type WillCloseListener<S> = (session: S) => void | Promise<void>;

/** What the owner of a lifecycle does while it closes. */
export interface CloseHooks {
  listenerFailed(error: unknown): void;
  closed(): void;
}

/**
 * Serverpod's lifecycle, made strict: open → closing → closed. Will-close listeners run once, in
 * insertion order, each awaited; one that throws is reported and the rest still run. `close()`
 * is idempotent: every caller gets the same promise.
 */
export class Lifecycle {
  state: SessionState = 'open';
  error: unknown = undefined;
  /** Created by the first listener: most requests add none. */
  #listeners: Set<WillCloseListener<unknown>> | undefined;
  #closing: Promise<void> | undefined;
  #controller: AbortController | undefined;
  #abortReason: unknown = undefined;

  /** Created on first use: most requests never look at it. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    // Closed before anyone asked: the reason is made now, for the first reader.
    if (this.#abortReason === undefined && this.state === 'closed') this.#abortReason = new SessionClosedSignal();
    if (this.#abortReason !== undefined && !this.#controller.signal.aborted) this.#controller.abort(this.#abortReason);
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#abortReason !== undefined || this.state === 'closed') return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  add(listener: WillCloseListener<unknown>): void {
    if (typeof listener !== 'function') throw new TypeError('sojourn: a will-close listener must be a function');
    (this.#listeners ??= new Set()).add(listener);
  }

  remove(listener: WillCloseListener<unknown>): void {
    this.#listeners?.delete(listener);
  }

  close(owner: unknown, error: unknown, hooks: CloseHooks): Promise<void> {
    if (this.#closing) return this.#closing;
    this.state = 'closing';
    if (error !== undefined) this.error ??= error;
    this.#closing = this.#run(owner, hooks);
    return this.#closing;
  }

  // ---------------------------------------------------------------------------------------

  async #run(owner: unknown, hooks: CloseHooks): Promise<void> {
    for (const listener of this.#listeners ?? []) {
      try {
        await listener(owner);
      } catch (listenerError) {
        hooks.listenerFailed(listenerError);
      }
    }
    this.#listeners = undefined;
    // An Error captures a stack trace, and most requests never read the signal: only one already
    // handed out is aborted now; a later reader gets an aborted one from the getter.
    if (this.#controller) this.abort(new SessionClosedSignal());
    this.state = 'closed';
    hooks.closed();
  }
}

/** The abort reason once a session has closed normally (the client did not go away). */
class SessionClosedSignal extends Error {
  constructor() {
    super('session closed');
    this.name = 'AbortError';
  }
}
