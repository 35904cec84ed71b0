import { isProduction, warn } from './environment.js';
import type { Session } from './session.js';

/**
 * The manager's open sessions. Framework-bound ones are held strongly (the framework closes them);
 * internal ones weakly, so one the caller forgot to close can be collected, and in development a
 * warning then names where it was created.
 */
export class OpenSessions {
  readonly #bound = new Set<Session>();
  readonly #watched = new Set<WeakRef<Session>>();
  readonly #refs = new WeakMap<Session, WeakRef<Session>>();
  readonly #leaks = new FinalizationRegistry<{ ref: WeakRef<Session>; createdAt: string | undefined }>(({ ref, createdAt }) => {
    this.#watched.delete(ref);
    if (!isProduction()) warn('SOJOURN_SESSION_LEAK', `an internal session was garbage-collected without close(); ${createdAt ?? ''}`);
  });

  get size(): number {
    return this.#bound.size + this.#watched.size;
  }

  add(session: Session): void {
    this.#bound.add(session);
  }

  /** Holds `session` weakly from now on; `createdAt` is a stack trace for the leak warning. */
  watch(session: Session, createdAt: string | undefined): void {
    this.#bound.delete(session);
    const ref = new WeakRef(session);
    this.#refs.set(session, ref);
    this.#watched.add(ref);
    this.#leaks.register(session, { ref, createdAt }, ref);
  }

  delete(session: Session): void {
    if (this.#bound.delete(session)) return;
    const ref = this.#refs.get(session);
    if (!ref) return;
    this.#watched.delete(ref);
    this.#leaks.unregister(ref);
  }

  async closeAll(): Promise<void> {
    const sessions = [...this.#bound];
    for (const ref of this.#watched) {
      const session = ref.deref();
      if (session) sessions.push(session);
    }
    await Promise.all(sessions.map((session) => session.close()));
  }
}
