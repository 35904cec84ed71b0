import type { Resolution } from './resolver.js';
import type { SessionService } from './service.js';
import type { SessionBinding } from './session.js';
import type { SessionPatch } from './stores/types.js';
import type { TokenChange } from './token/answer.js';
import type { CachedSession, SessionUser } from './types.js';

/**
 * The record one unit of work is bound to, and the token its client holds for it: created by the
 * first write, replaced by a login, forgotten by a destroy, and never recreated once it vanished
 * under the session (revoked or superseded elsewhere). What the client must hear goes to the binding.
 */
export class BoundRecord {
  readonly #service: SessionService;
  readonly #binding: SessionBinding | undefined;
  #record: CachedSession | undefined;
  /** The token the client holds for `#record` (to re-send when its expiry moves); never logged. */
  #token: string | undefined;
  /** The record vanished under us (revoked elsewhere) or was superseded: later writes are refused, not recreated. */
  #lost = false;
  #creating: Promise<CachedSession> | undefined;

  constructor(service: SessionService, binding: SessionBinding | undefined) {
    this.#service = service;
    this.#binding = binding;
  }

  get current(): CachedSession | undefined {
    return this.#record;
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** The first write's creation of the record, while in flight. */
  get creating(): Promise<CachedSession> | undefined {
    return this.#creating;
  }

  /** What a presented token resolved to; `undefined`: junk, unknown or revoked, the client forgets it. */
  resolved(resolution: Resolution | undefined, token: string): void {
    if (!resolution) return this.#binding?.token(FORGET);
    // Superseded by a login in its grace window: nothing to read, nothing to write, and the
    // client's (newer) token is left alone.
    if (resolution.superseded) return void (this.#lost = true);
    this.#record = resolution.session;
    this.#token = token;
    if (resolution.renewed) this.#answer();
  }

  /** A task's record, as its call was scheduled with; `undefined`: it is gone, writes are refused. */
  bind(record: CachedSession | undefined): void {
    this.#record = record;
    this.#lost = record === undefined;
  }

  /** One field-level write; `false` when the record vanished (it is not recreated). */
  async write(patch: Omit<SessionPatch, 'updatedAt'>, creates: boolean): Promise<boolean> {
    if (this.#lost) return false;
    const record = this.#record ?? (creates ? await this.ensure() : await this.#creating);
    if (!record) return true; // nothing to clear on a session that has no record
    const next = await this.#service.update(record, patch);
    const current = record.id === this.#record?.id; // not a record replaced meanwhile (a login)
    if (next && next.supersededUntil === undefined) {
      if (!current) return true;
      this.#record = next;
      if (next.expiresAt !== record.expiresAt) this.#answer(); // a guest's first order: a longer life
      return true;
    }
    if (current) {
      this.#lost = true;
      this.#record = undefined;
      this.#token = undefined;
      if (!next) this.#binding?.token(FORGET); // gone; a superseded one is left to its grace window
    }
    return false;
  }

  /** The record, created once however many writes ask for it at the same time. */
  ensure(): Promise<CachedSession> {
    if (this.#record) return Promise.resolve(this.#record);
    this.#creating ??= this.#service.createAnonymousSession(this.#binding?.device?.()).then(({ token, session }) => {
      this.#adopt(session, token, false);
      return session;
    });
    return this.#creating;
  }

  async authenticate(user: SessionUser, strategyName: string, rememberMe: boolean | undefined): Promise<void> {
    const from = this.#record ?? (await this.#creating);
    const device = this.#binding?.device?.();
    const { token, session } = await this.#service.createNewAuthenticatedSession(user, strategyName, { from, rememberMe, device });
    this.#adopt(session, token, true);
  }

  async destroy(): Promise<void> {
    const record = this.#record ?? (await this.#creating); // no tick when present: a write issued after destroy() loses
    if (!record) return;
    this.#record = undefined;
    this.#token = undefined;
    this.#creating = undefined;
    await this.#service.deleteSession(record.id);
    this.#binding?.token(FORGET);
  }

  #adopt(session: CachedSession, token: string, fresh: boolean): void {
    this.#record = session;
    this.#token = token;
    this.#lost = false;
    if (fresh) this.#creating = undefined;
    this.#answer();
  }

  /** Hands the client its token for the record's current expiry (a browser-session cookie without "remember me"). */
  #answer(): void {
    const record = this.#record;
    if (!record || this.#token === undefined) return;
    this.#binding?.token({ token: this.#token, expiresAt: record.expiresAt, persistent: record.rememberMe !== false });
  }
}

/** "Forget your token": the answer to a junk, revoked or destroyed one. */
const FORGET: TokenChange = Object.freeze({ token: undefined, expiresAt: undefined });
