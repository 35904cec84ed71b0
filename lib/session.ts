import { BoundRecord } from './bound-record.js';
import type { Device } from './device.js';
import { SessionClosedError } from './errors.js';
import { reason, warn } from './environment.js';
import { Lifecycle, type WillCloseListener } from './lifecycle.js';
import { LogBuffer, type LogCall } from './logs/buffer.js';
import type { LogSettings } from './logs/types.js';
import { createSessionMessages, type SessionMessages } from './messages/session.js';
import type { SessionService } from './service.js';
import type { SessionPatch } from './stores/types.js';
import type { VerifiedToken } from './token/codec.js';
import type { TokenChange } from './token/answer.js';
import type { CachedSession, Id, IdOrEntity, SessionKind, SessionState, SessionUser } from './types.js';
import { idOf, setPatch, unsetPatch } from './values.js';

/** How a session talks back to its transport (an HTTP response, a socket…). */
export interface SessionBinding {
  /** A new or renewed token to hand the client, or `{ token: undefined }`: the client must forget its token. */
  token(change: TokenChange): void;
  /** Names the unit of work in logs. */
  route?(): string | undefined;
  /** The client, for device lists: read when a record is created or logged in. */
  device?(): Device | undefined;
}

/** What the transports do to a session beyond its public members; not public API. */
export interface SessionControl {
  /** Resolves a presented token; an invalid one makes the client forget it. */
  load(session: Session, token: VerifiedToken | undefined): Promise<void>;
  /** A task session takes the record its call was scheduled with; `undefined`: it is gone, writes are refused. */
  bind(session: Session, record: CachedSession | undefined): void;
  /** The client went away: abort the signal now, close follows. */
  abort(session: Session, reason: unknown): void;
  /** The unit of work failed: close will report this error. */
  fail(session: Session, error: unknown): void;
  /** The request became a stream (SSE): it lives as long as the stream; `onRevoked` ends it. Returns the stop. */
  stream(session: Session, onRevoked: () => void): () => void;
}

/** Given its value by the class's static block, the one place that reaches a session's private state. */
export let sessionControl!: SessionControl;

/**
 * One unit of work (a request, a stream, a socket, a task, or an internal job) bound to a
 * session record. Reads are synchronous; writes are awaited, field-level and never bring back a
 * record that was destroyed meanwhile. After close every member but `kind`, `state`,
 * `isClosed` and `id` throws `SessionClosedError`.
 */
export class Session {
  readonly kind: SessionKind;
  readonly #service: SessionService;
  readonly #binding: SessionBinding | undefined;
  readonly #lifecycle = new Lifecycle();
  readonly #startedAt: number;
  readonly #bound: BoundRecord;
  #log: LogBuffer | undefined;
  #messages: { messages: SessionMessages; closeAll: () => void } | undefined;

  constructor(service: SessionService, kind: SessionKind, binding?: SessionBinding) {
    this.#service = service;
    this.kind = kind;
    this.#binding = binding;
    this.#bound = new BoundRecord(service, binding);
    this.#startedAt = service.options.clock();
    service.opened(this);
  }

  get state(): SessionState {
    return this.#lifecycle.state;
  }

  get isClosed(): boolean {
    return this.#lifecycle.state === 'closed';
  }

  /** The record's public id; `undefined` until a record exists. */
  get id(): string | undefined {
    return this.#bound.current?.id;
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
   * Publish/subscribe that lives and dies with the session: `publish(topic, message)`,
   * `subscribe(topic, listener)`, `stream(topic)`. Every subscription made here is removed when the
   * session closes.
   */
  get messages(): SessionMessages {
    this.#assertOpen('messages');
    this.#messages ??= createSessionMessages(this.#service.messages, (member) => this.#assertOpen(member));
    return this.#messages.messages;
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#view('get')?.data[key] as T | undefined;
  }

  setActiveOrder(order: IdOrEntity): Promise<boolean> {
    return this.#write('setActiveOrder', { activeOrderId: idOf(order, 'order') });
  }

  /** Writes nothing when there is no active order. */
  async unsetActiveOrder(): Promise<boolean> {
    this.#assertOpen('unsetActiveOrder');
    const record = this.#bound.current ?? (await this.#bound.creating);
    if (!this.#bound.lost && record?.activeOrderId === undefined) return true;
    return this.#write('unsetActiveOrder', { activeOrderId: null }, false);
  }

  setActiveChannel(channel: IdOrEntity): Promise<boolean> {
    return this.#write('setActiveChannel', { activeChannelId: idOf(channel, 'channel') });
  }

  /** Sets one key of the data bag (a JSON copy of `value`); other keys, even concurrent ones, are kept. */
  set(key: string, value: unknown): Promise<boolean> {
    return this.#write('set', setPatch(key, value));
  }

  unset(key: string): Promise<boolean> {
    return this.#write('unset', unsetPatch(key), false);
  }

  /** Creates the anonymous record now (records are otherwise created by the first write). */
  async ensure(): Promise<boolean> {
    this.#assertOpen('ensure');
    if (this.#bound.lost) return false;
    await this.#bound.ensure();
    return true;
  }

  /**
   * Logs the user in: always a new token (no fixation), its active order carried through
   * `mergeActiveOrder`, its data through `mergeGuestData`, its channel kept, and the guest's token
   * superseded. `rememberMe: false` gives a browser-session cookie and `shortDuration` of idle life.
   */
  async authenticate(user: SessionUser, strategyName: string, options: { rememberMe?: boolean } = {}): Promise<void> {
    this.#assertOpen('authenticate');
    await this.#bound.authenticate(user, strategyName, options.rememberMe);
  }

  /** Deletes the record and tells the client to forget its token. A later write starts a new session. */
  async destroy(): Promise<void> {
    this.#assertOpen('destroy');
    await this.#bound.destroy();
  }

  addWillCloseListener(listener: WillCloseListener<Session>): void {
    this.#assertOpen('addWillCloseListener');
    this.#lifecycle.add(listener as WillCloseListener<unknown>);
  }

  removeWillCloseListener(listener: WillCloseListener<Session>): void {
    this.#assertOpen('removeWillCloseListener');
    this.#lifecycle.remove(listener as WillCloseListener<unknown>);
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
    return this.#lifecycle.close(this, options?.error, {
      listenerFailed: (error) => this.#listenerFailed(error),
      closed: () => this.#closed(),
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  static {
    sessionControl = {
      async load(session, token) {
        if (token !== undefined) session.#bound.resolved(await session.#service.resolve(token), token.token);
      },
      bind: (session, record) => session.#bound.bind(record),
      abort: (session, why) => session.#lifecycle.abort(why),
      fail(session, error) {
        session.#lifecycle.error ??= error;
      },
      stream(session, onRevoked) {
        session.#assertOpen('stream');
        (session as { kind: SessionKind }).kind = 'stream';
        return session.#service.onRevoke((ids) => {
          const record = session.#bound.current;
          if (record && ids.includes(record.id)) onRevoked();
        });
      },
    };
  }

  // ---------------------------------------------------------------------------------------

  #view(member: string): CachedSession | undefined {
    this.#assertOpen(member);
    return this.#bound.current;
  }

  #assertOpen(member: string): void {
    if (this.#lifecycle.state === 'closed') throw new SessionClosedError(member, this.kind);
  }

  async #write(member: string, patch: Omit<SessionPatch, 'updatedAt'>, creates = true): Promise<boolean> {
    this.#assertOpen(member); // a rejection, not a throw: writes are awaited
    return this.#bound.write(patch, creates);
  }

  /** Created on first use; asks the session for its context each time (kind, record and user change). */
  #logger(): LogBuffer {
    this.#log ??= new LogBuffer(this.#service.options.logs, this.#service.options.clock, () => ({
      kind: this.kind,
      route: this.#binding?.route?.(),
      sessionId: this.#bound.current?.id,
      userId: this.#bound.current?.userId,
      startedAt: this.#startedAt,
    }));
    return this.#log;
  }

  #listenerFailed(error: unknown): void {
    this.#logger().add('will-close listener threw', { level: 'error', error });
    warn('SOJOURN_LISTENER_FAILED', `a will-close listener threw (${this.kind} session): ${reason(error)}`);
  }

  #closed(): void {
    this.#messages?.closeAll();
    // Without a sink there is nothing to write: no buffer, no context for most requests.
    if (this.#log || this.#service.options.logs.sink) this.#logger().flush(this.#lifecycle.error);
    this.#service.closed(this);
  }
}
