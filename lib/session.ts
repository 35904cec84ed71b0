import { SessionClosedError } from './errors.js';
import { Lifecycle, type CloseHooks, type WillCloseListener } from './lifecycle.js';
import { LogBuffer, type LogCall } from './logs/buffer.js';
import type { LogSettings } from './logs/types.js';
import { CLOSE_ALL, SessionMessages, type MessageHub } from './messages/session.js';
import type { ResolvedOptions } from './options.js';
import type { Resolution } from './resolver.js';
import type { SessionPatch } from './stores/types.js';
import type { CachedSession, Id, IdOrEntity, SessionKind, SessionState, SessionUser } from './types.js';
import { idOf, isPromise, jsonCopy } from './values.js';

/** What a Session needs from its manager. */
export interface SessionEngine {
  readonly options: ResolvedOptions;
  /** Synchronous on a warm in-process cache hit; a promise when anything else is involved. */
  resolve(token: string): Resolution | undefined | Promise<Resolution | undefined>;
  createAnonymousSession(): Promise<{ token: string; session: CachedSession }>;
  createNewAuthenticatedSession(user: SessionUser, strategyName: string, opts: { from?: CachedSession }): Promise<{ token: string; session: CachedSession }>;
  update(session: CachedSession, patch: Omit<SessionPatch, 'updatedAt'>): Promise<CachedSession | undefined>;
  deleteSession(id: string): Promise<boolean>;
  /** Calls `listener` with the ids of sessions revoked here or on another instance; returns the unsubscribe. */
  onRevoke(listener: (ids: readonly string[]) => void): () => void;
  readonly messages: MessageHub;
  opened(session: Session): void;
  closed(session: Session): void;
}

/** How a session talks back to its transport (an HTTP response, a socket…). */
export interface SessionBinding {
  /** A new or renewed token to hand the client, or `undefined`: the client must forget its token. */
  token(token: string | undefined, expiresAt: number | undefined): void;
  /** Names the unit of work in logs. */
  route?(): string | undefined;
}

/** Framework-only members, out of the public surface. */
export const LOAD = Symbol('sojourn.load');
export const ABORT = Symbol('sojourn.abort');
export const FAIL = Symbol('sojourn.fail');
export const STREAM = Symbol('sojourn.stream');
export const BIND = Symbol('sojourn.bind');

/**
 * One unit of work (a request, a stream, a socket, a task, or an internal job) bound to a
 * session record. Reads are synchronous; writes are awaited, field-level and never bring back a
 * record that was destroyed meanwhile. After close every member but `kind`, `state`,
 * `isClosed` and `id` throws `SessionClosedError`.
 */
export class Session {
  readonly kind: SessionKind;
  readonly #engine: SessionEngine;
  readonly #binding: SessionBinding | undefined;
  readonly #lifecycle = new Lifecycle<Session>();
  readonly #startedAt: number;
  #record: CachedSession | undefined;
  /** The record vanished under us (revoked elsewhere): later writes are refused, not recreated. */
  #lost = false;
  #creating: Promise<CachedSession> | undefined;
  #log: LogBuffer | undefined;
  #messages: SessionMessages | undefined;

  constructor(engine: SessionEngine, kind: SessionKind, binding?: SessionBinding) {
    this.#engine = engine;
    this.kind = kind;
    this.#binding = binding;
    this.#startedAt = engine.options.clock();
    engine.opened(this);
  }

  get state(): SessionState {
    return this.#lifecycle.state;
  }

  get isClosed(): boolean {
    return this.#lifecycle.state === 'closed';
  }

  /** The record's public id; `undefined` until a record exists. */
  get id(): string | undefined {
    return this.#record?.id;
  }

  get isAuthenticated(): boolean {
    return this.#view('isAuthenticated')?.userId !== undefined;
  }

  get user(): SessionUser | undefined {
    return this.#view('user')?.user;
  }

  get authenticationStrategy(): string | undefined {
    return this.#view('authenticationStrategy')?.authenticationStrategy;
  }

  get activeOrderId(): Id | undefined {
    return this.#view('activeOrderId')?.activeOrderId;
  }

  get activeChannelId(): Id | undefined {
    return this.#view('activeChannelId')?.activeChannelId;
  }

  /** Idle expiry, epoch milliseconds. */
  get expiresAt(): number | undefined {
    return this.#view('expiresAt')?.expiresAt;
  }

  /** Aborted when the client goes away, and when the session closes. */
  get signal(): AbortSignal {
    this.#assertOpen('signal');
    return this.#lifecycle.signal;
  }

  /**
   * Publish/subscribe that lives and dies with the session: `post(channel, message)`,
   * `subscribe(channel, listener)`, `stream(channel)`. Every subscription made here is removed
   * when the session closes.
   */
  get messages(): SessionMessages {
    this.#assertOpen('messages');
    this.#messages ??= new SessionMessages(this.#engine.messages, (member) => this.#assertOpen(member));
    return this.#messages;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#view('get')?.data[key] as T | undefined;
  }

  setActiveOrder(order: IdOrEntity): Promise<boolean> {
    return this.#write('setActiveOrder', { activeOrderId: idOf(order, 'order') });
  }

  unsetActiveOrder(): Promise<boolean> {
    return this.#write('unsetActiveOrder', { activeOrderId: null }, false);
  }

  setActiveChannel(channel: IdOrEntity): Promise<boolean> {
    return this.#write('setActiveChannel', { activeChannelId: idOf(channel, 'channel') });
  }

  /** Sets one key of the data bag (a JSON copy of `value`); other keys, even concurrent ones, are kept. */
  set(key: string, value: unknown): Promise<boolean> {
    return this.#write('set', { set: { [dataKey(key)]: jsonCopy(value, `session.set('${key}')`) } });
  }

  unset(key: string): Promise<boolean> {
    return this.#write('unset', { unset: [dataKey(key)] }, false);
  }

  /** Creates the anonymous record now (records are otherwise created by the first write). */
  async ensure(): Promise<boolean> {
    this.#assertOpen('ensure');
    if (this.#lost) return false;
    await this.#ensureRecord();
    return true;
  }

  /**
   * Logs the user in: always a new token (no fixation), the guest record deleted, its active order
   * carried through `mergeActiveOrder`, its data bag and channel kept.
   */
  async authenticate(user: SessionUser, strategyName: string): Promise<void> {
    this.#assertOpen('authenticate');
    const from = this.#record ?? (await this.#creating);
    const { token, session } = await this.#engine.createNewAuthenticatedSession(user, strategyName, { from });
    this.#adopt(session, token, true);
  }

  /** Deletes the record and tells the client to forget its token. A later write starts a new session. */
  async destroy(): Promise<void> {
    this.#assertOpen('destroy');
    const record = this.#record ?? (await this.#creating);
    if (!record) return;
    this.#record = undefined;
    this.#creating = undefined;
    await this.#engine.deleteSession(record.id);
    this.#binding?.token(undefined, undefined);
  }

  addWillCloseListener(listener: WillCloseListener<Session>): void {
    this.#assertOpen('addWillCloseListener');
    this.#lifecycle.add(listener);
  }

  removeWillCloseListener(listener: WillCloseListener<Session>): void {
    this.#assertOpen('removeWillCloseListener');
    this.#lifecycle.remove(listener);
  }

  log(message: string, options?: LogCall): void {
    this.#assertOpen('log');
    this.#logger().add(message, options);
  }

  /**
   * Overrides the manager's `logs` settings (not the sink) for this session, e.g. in one route:
   * `req.session.setLogOptions({ logAll: false })`. `level` applies to entries logged from now on.
   */
  setLogOptions(overrides: LogSettings): void {
    this.#assertOpen('setLogOptions');
    this.#logger().configure(overrides);
  }

  /** Runs the will-close listeners, writes the log, then refuses use. Idempotent. */
  close(options?: { error?: unknown }): Promise<void> {
    return this.#lifecycle.close(this, options?.error, Session.#closeHooks);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------

  /**
   * Resolves a presented token; an invalid one makes the client forget it. Returns nothing when
   * done synchronously (a warm in-process cache hit), else a promise; throws only synchronously.
   */
  [LOAD](token: string | undefined): void | Promise<void> {
    if (token === undefined) return;
    const resolution = this.#engine.resolve(token);
    if (isPromise(resolution)) return resolution.then((resolved) => this.#loaded(token, resolved));
    this.#loaded(token, resolution);
  }

  #loaded(token: string, resolution: Resolution | undefined): void {
    if (!resolution) return this.#binding?.token(undefined, undefined);
    this.#record = resolution.session;
    if (resolution.renewed) this.#binding?.token(token, resolution.session.expiresAt);
  }

  /** A task session takes the record its call was scheduled with; `undefined`: it is gone, writes are refused. */
  [BIND](record: CachedSession | undefined): void {
    this.#record = record;
    this.#lost = record === undefined;
  }

  /** The client went away: abort the signal now, close follows. */
  [ABORT](reason: unknown): void {
    this.#lifecycle.abort(reason);
  }

  /** The unit of work failed: close will report this error (set by error-capturing middleware). */
  [FAIL](error: unknown): void {
    this.#lifecycle.error ??= error;
  }

  /** The request became a stream (SSE): the session now lives as long as the stream does. */
  [STREAM](onRevoked: () => void): () => void {
    this.#assertOpen('stream');
    (this as { kind: SessionKind }).kind = 'stream';
    return this.#engine.onRevoke((ids) => {
      if (this.#record && ids.includes(this.#record.id)) onRevoked();
    });
  }

  #view(member: string): CachedSession | undefined {
    this.#assertOpen(member);
    return this.#record;
  }

  #assertOpen(member: string): void {
    if (this.#lifecycle.state === 'closed') throw new SessionClosedError(member, this.kind);
  }

  async #write(member: string, patch: Omit<SessionPatch, 'updatedAt'>, creates = true): Promise<boolean> {
    this.#assertOpen(member);
    if (this.#lost) return false;
    const record = this.#record ?? (creates ? await this.#ensureRecord() : await this.#creating);
    if (!record) return true; // nothing to clear on a session that has no record
    const next = await this.#engine.update(record, patch);
    if (next) {
      if (next.id === this.#record?.id) this.#record = next; // not a record replaced meanwhile
      return true;
    }
    if (record.id === this.#record?.id) {
      this.#lost = true;
      this.#record = undefined;
      this.#binding?.token(undefined, undefined);
    }
    return false;
  }

  /** The record, created once however many writes ask for it at the same time. */
  #ensureRecord(): Promise<CachedSession> {
    if (this.#record) return Promise.resolve(this.#record);
    this.#creating ??= this.#engine.createAnonymousSession().then(({ token, session }) => {
      this.#adopt(session, token, false);
      return session;
    });
    return this.#creating;
  }

  #adopt(session: CachedSession, token: string, fresh: boolean): void {
    this.#record = session;
    this.#lost = false;
    if (fresh) this.#creating = undefined;
    this.#binding?.token(token, session.expiresAt);
  }

  /** Created on first use; asks the session for its context each time (kind, record and user change). */
  #logger(): LogBuffer {
    this.#log ??= new LogBuffer(this.#engine.options.logs, this.#engine.options.clock, () => ({
      kind: this.kind,
      route: this.#binding?.route?.(),
      sessionId: this.#record?.id,
      userId: this.#record?.userId,
      startedAt: this.#startedAt,
    }));
    return this.#log;
  }

  static readonly #closeHooks: CloseHooks<Session> = {
    listenerFailed: (session, error) => session.#listenerFailed(error),
    closed: (session) => session.#closed(),
  };

  #listenerFailed(error: unknown): void {
    this.#logger().add('will-close listener threw', { level: 'error', error });
    process.emitWarning(`a will-close listener threw (${this.kind} session)`, { code: 'SOJOURN_LISTENER_FAILED', detail: describe(error) });
  }

  #closed(): void {
    this.#messages?.[CLOSE_ALL]();
    // Without a sink there is nothing to write: no buffer, no context for most requests.
    if (this.#log || this.#engine.options.logs.sink) this.#logger().flush(this.#lifecycle.error);
    this.#engine.closed(this);
  }
}

// ---------------------------------------------------------------------------------------

function dataKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('sojourn: session data keys must be non-empty strings');
  return key;
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
