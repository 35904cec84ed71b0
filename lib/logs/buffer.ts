import type { ResolvedOptions } from '../options.js';
import { LOG_LEVELS, type LogEntry, type LogLevel, type SessionLog } from './types.js';

export interface LogCall {
  level?: LogLevel;
  error?: unknown;
  meta?: Record<string, unknown>;
}

/** Collects a session's entries and hands one `SessionLog` to the sink when the session closes. */
export class LogBuffer {
  readonly #entries: LogEntry[] = [];
  readonly #options: ResolvedOptions['logs'];
  readonly #clock: () => number;

  constructor(options: ResolvedOptions['logs'], clock: () => number) {
    this.#options = options;
    this.#clock = clock;
  }

  add(message: string, { level = 'info', error, meta }: LogCall = {}): void {
    if (!LOG_LEVELS.includes(level)) throw new TypeError(`sojourn: log level must be one of ${LOG_LEVELS.join(', ')}`);
    if (!this.#options.sink || rank(level) < rank(this.#options.level)) return;
    this.#entries.push({ time: this.#clock(), level, message: String(message), error, meta });
  }

  /** Sends the log when it is worth sending; a failing sink is reported, never thrown. */
  flush(log: Omit<SessionLog, 'entries' | 'slow'>): void {
    const { sink, slowMs, logAll } = this.#options;
    if (!sink) return;
    const slow = log.duration > slowMs;
    if (!logAll && !slow && log.error === undefined && this.#entries.length === 0) return;
    try {
      Promise.resolve(sink({ ...log, slow, entries: this.#entries })).catch(reportSinkFailure);
    } catch (error) {
      reportSinkFailure(error);
    }
  }
}

// ---------------------------------------------------------------------------------------

function rank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

function reportSinkFailure(error: unknown): void {
  process.emitWarning(`session log sink failed: ${error instanceof Error ? error.message : String(error)}`, {
    code: 'SOJOURN_LOG_SINK',
  });
}
