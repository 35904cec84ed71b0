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

/** What a sink receives when a session closes. Never carries the token. */
export interface SessionLog {
  readonly kind: SessionKind;
  /** `METHOD /route/:pattern` for requests (the pattern when one matched, the path otherwise). */
  readonly route: string | undefined;
  readonly sessionId: string | undefined;
  readonly userId: Id | undefined;
  readonly startedAt: number;
  readonly duration: number;
  /** What the unit of work failed with, if it did. */
  readonly error: unknown;
  readonly slow: boolean;
  readonly entries: readonly LogEntry[];
}

export type LogSink = (log: SessionLog) => void | Promise<void>;

export interface LogOptions {
  /** Receives one `SessionLog` per session worth logging. @default none (logging off) */
  sink?: LogSink;
  /** Entries below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** A session that took longer is logged with `slow: true`. @default 1000 */
  slowMs?: Duration;
  /** Log every session, not only failed, slow or ones with entries. @default false */
  logAll?: boolean;
}
