import { reason, warn } from '../environment.js';
import { resolveLogSettings, type ResolvedLogSettings, type ResolvedLogs } from './settings.js';
import { LOG_LEVELS, type LogEntry, type LogLevel, type LogSettings, type SessionLog } from './types.js';

export interface LogCall {
  level?: LogLevel;
  error?: unknown;
  meta?: Record<string, unknown>;
}

/** What a session tells its log, asked each time: the kind, route, record and user may change. */
export type LogContext = Pick<SessionLog, 'kind' | 'route' | 'sessionId' | 'userId' | 'startedAt'>;

/**
 * One session's log. Short sessions keep their entries and hand one `SessionLog` to the sink on
 * close; long-lived ones (streams, WebSockets) hand each entry over as it comes, so a socket open
 * for a day holds no growing buffer and its entries are seen while it is still open.
 */
export class LogBuffer {
  #pending: LogEntry[] = [];
  readonly #settings: ResolvedLogs;
  /** `session.setLogOptions(…)`: wins over the route's settings, which win over the manager's. */
  #overrides: Partial<ResolvedLogSettings> = {};
  /** A long-lived session already sent entries: its close must be sent too, to end the story. */
  #sent = false;
  readonly #clock: () => number;
  readonly #context: () => LogContext;

  constructor(settings: ResolvedLogs, clock: () => number, context: () => LogContext) {
    this.#settings = settings;
    this.#clock = clock;
    this.#context = context;
  }

  /** Per-session overrides of the manager's `logs` settings (not the sink). */
  configure(overrides: LogSettings): void {
    this.#overrides = { ...this.#overrides, ...resolveLogSettings(overrides, {}, { sink: false }) };
  }

  add(message: string, { level = 'info', error, meta }: LogCall = {}): void {
    if (!LOG_LEVELS.includes(level)) throw new TypeError(`sojourn: log level must be one of ${LOG_LEVELS.join(', ')}`);
    if (!this.#settings.sink) return;
    const context = this.#context();
    if (rank(level) < rank(this.#effective(context).level)) return;
    this.#pending.push({ time: this.#clock(), level, message: String(message), error, meta });
    if (isLongLived(context)) this.#send(context, { duration: this.#clock() - context.startedAt, error: undefined, slow: false, open: true });
  }

  /** The session closed: sends what is worth sending. A failing sink is reported, never thrown. */
  flush(error: unknown): void {
    if (!this.#settings.sink) return;
    const context = this.#context();
    const { logAll, logSlow, slowMs, logFailed } = this.#effective(context);
    const duration = this.#clock() - context.startedAt;
    const slow = !isLongLived(context) && duration > slowMs;
    const failed = error !== undefined;
    if (!logAll && !(logSlow && slow) && !(logFailed && failed) && this.#pending.length === 0 && !this.#sent) return;
    this.#send(context, { duration, error, slow, open: false });
  }

  // ---------------------------------------------------------------------------------------

  /** The manager's settings, then the route's, then this session's own. */
  #effective(context: LogContext): ResolvedLogSettings {
    const byRoute = context.route === undefined ? undefined : this.#settings.routes.get(context.route);
    return { ...this.#settings, ...byRoute, ...this.#overrides };
  }

  #send(context: LogContext, state: Pick<SessionLog, 'duration' | 'error' | 'slow' | 'open'>): void {
    const entries = this.#pending;
    this.#pending = [];
    this.#sent = true;
    const log: SessionLog = { ...context, ...state, entries };
    try {
      Promise.resolve(this.#settings.sink!(log)).catch(reportSinkFailure);
    } catch (sinkError) {
      reportSinkFailure(sinkError);
    }
  }
}

// ---------------------------------------------------------------------------------------

function isLongLived({ kind }: LogContext): boolean {
  return kind === 'stream' || kind === 'websocket';
}

function rank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

function reportSinkFailure(error: unknown): void {
  warn('SOJOURN_LOG_SINK', `session log sink failed: ${reason(error)}`);
}
