import type { Duration } from '../duration.js';
import type { Id, SessionKind } from '../types.js';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One `session.log(...)` call. */
export interface LogEntry {
  readonly time: number;
  readonly level: LogLevel;
  readonly message: string;
  readonly error?: unknown;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/**
 * What a sink receives. A short session (request, task, internal) hands over one `SessionLog`
 * when it closes. A long-lived one (stream, WebSocket) hands over one per entry as it comes
 * (`open: true`), then a last one (`open: false`) when it closes. Never carries the token.
 */
export interface SessionLog {
  readonly kind: SessionKind;
  /** `METHOD /route/:pattern` for requests (the pattern when one matched, the path otherwise). */
  readonly route: string | undefined;
  readonly sessionId: string | undefined;
  readonly userId: Id | undefined;
  readonly startedAt: number;
  /** Milliseconds from start to close (to now while `open`). */
  readonly duration: number;
  /** What the unit of work failed with, if it did. */
  readonly error: unknown;
  /** Longer than `slowMs`; never for long-lived sessions. */
  readonly slow: boolean;
  /** The session is still open: a long-lived session's entries, sent as they come. */
  readonly open: boolean;
  readonly entries: readonly LogEntry[];
}

/**
 * Receives each closed session's log. A sink that keeps logs for a while (`postgresLogSink`) may
 * offer `prune(now)`: the expired-session cleanup then deletes its rows past their retention too.
 */
export type LogSink = ((log: SessionLog) => void | Promise<void>) & { prune?(now: number): Promise<number> };

/** Which sessions are logged and what they keep; Serverpod's `LogSettings` under one name each. */
export interface LogSettings {
  /** Entries below this level are dropped (Serverpod `logLevel`). @default 'info' */
  level?: LogLevel;
  /** Log every session (Serverpod `logAllSessions`). @default true unless NODE_ENV is 'production' */
  logAll?: boolean;
  /** Log sessions slower than `slowMs` (Serverpod `logSlowSessions`). @default true */
  logSlow?: boolean;
  /** What counts as slow (Serverpod `slowSessionDuration`). @default 1000 */
  slowMs?: Duration;
  /** Log sessions that closed with an error (Serverpod `logFailedSessions`). @default true */
  logFailed?: boolean;
}

export interface LogOptions extends LogSettings {
  /** Overrides by route, as logs name them (`'POST /checkout'`, `'GET /orders/:id'`). @default {} */
  routes?: Readonly<Record<string, LogSettings>>;
  /**
   * Receives the logs: a function, `consoleSink()` or `pinoSink(logger)`. Without one nothing is
   * logged, whatever the other settings say. @default none
   */
  sink?: LogSink;
}
