import { isProduction } from '../environment.js';
import type { LogEntry, LogLevel, LogSink, SessionLog } from './types.js';

export interface ConsoleSinkOptions {
  /** `'text'`: one readable line per session and per entry; `'json'`: one JSON line per `SessionLog`. @default 'text' unless NODE_ENV is 'production' */
  format?: 'text' | 'json';
  /** Where lines go. @default process.stdout */
  stream?: { write(line: string): unknown };
}

/** Serverpod's console writer: text for people in development, JSON lines for collectors in production. */
export function consoleSink({ format, stream }: ConsoleSinkOptions = {}): LogSink {
  const chosen = format ?? (isProduction() ? 'json' : 'text');
  if (chosen !== 'text' && chosen !== 'json') throw new TypeError("sojourn: consoleSink `format` must be 'text' or 'json'");
  if (stream !== undefined && typeof stream?.write !== 'function') throw new TypeError('sojourn: consoleSink `stream` must have a write(line) method');
  return (log) => {
    const out = stream ?? process.stdout;
    out.write(chosen === 'json' ? JSON.stringify(jsonLog(log)) + '\n' : textLog(log));
  };
}

/** Any logger with pino's (and bunyan's, winston's child loggers') `(object, message)` methods. */
export interface PinoLike {
  debug(object: object, message?: string): unknown;
  info(object: object, message?: string): unknown;
  warn(object: object, message?: string): unknown;
  error(object: object, message?: string): unknown;
}

/**
 * One logger call per entry, at the entry's level, and one per closed session: `error` when it
 * failed, `warn` when slow, `info` otherwise. Errors go under `err`, the key pino's standard
 * serializer knows; the session's fields under `session`.
 */
export function pinoSink(logger: PinoLike): LogSink {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  if (typeof logger !== 'object' || logger === null || !levels.every((level) => typeof logger[level] === 'function')) {
    throw new TypeError('sojourn: pinoSink needs a logger with debug, info, warn and error methods');
  }
  return (log) => {
    const session = sessionFields(log);
    for (const entry of log.entries) {
      logger[entry.level]({ ...entry.meta, session, ...(entry.error === undefined ? {} : { err: entry.error }) }, entry.message);
    }
    if (log.open) return;
    const level = log.error !== undefined ? 'error' : log.slow ? 'warn' : 'info';
    const closed = { session: { ...session, duration: log.duration, slow: log.slow }, ...(log.error === undefined ? {} : { err: log.error }) };
    logger[level](closed, log.error !== undefined ? 'session failed' : log.slow ? 'slow session' : 'session closed');
  };
}

// ---------------------------------------------------------------------------------------

function sessionFields(log: SessionLog): Record<string, unknown> {
  return { id: log.sessionId, userId: log.userId, kind: log.kind, route: log.route };
}

function jsonLog(log: SessionLog): Record<string, unknown> {
  return {
    time: new Date(log.startedAt).toISOString(),
    kind: log.kind,
    route: log.route,
    sessionId: log.sessionId,
    userId: log.userId,
    duration: log.duration,
    slow: log.slow,
    open: log.open,
    error: errorFields(log.error),
    entries: log.entries.map((entry) => ({
      time: new Date(entry.time).toISOString(),
      level: entry.level,
      message: entry.message,
      error: errorFields(entry.error),
      meta: entry.meta === undefined || serializable(entry.meta) ? entry.meta : '[unserializable]',
    })),
  };
}

/**
 * `12:00:00.000 request GET /orders/:id 12ms user=u1 session=0190… SLOW FAILED Error: boom`, then
 * one indented line per entry.
 */
function textLog(log: SessionLog): string {
  const head = [
    clockTime(log.startedAt),
    log.kind,
    log.route ?? '-',
    log.open ? `(open, ${log.duration}ms)` : `${log.duration}ms`,
    log.userId === undefined ? undefined : `user=${String(log.userId)}`,
    log.sessionId === undefined ? undefined : `session=${log.sessionId}`,
    log.slow ? 'SLOW' : undefined,
    log.error === undefined ? undefined : `FAILED ${errorText(log.error)}`,
  ];
  const lines = [head.filter((part) => part !== undefined).join(' ')];
  if (log.error instanceof Error && log.error.stack) lines.push(indent(log.error.stack.split('\n').slice(1).join('\n')));
  for (const entry of log.entries) lines.push(`  ${entryText(entry)}`);
  return lines.join('\n') + '\n';
}

function entryText(entry: LogEntry): string {
  const parts = [clockTime(entry.time), entry.level.toUpperCase().padEnd(5), entry.message];
  if (entry.meta !== undefined) parts.push(serializable(entry.meta) ? JSON.stringify(entry.meta) : '[unserializable]');
  if (entry.error !== undefined) parts.push(errorText(entry.error));
  return parts.join(' ');
}

function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 23);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export function errorFields(error: unknown): unknown {
  if (error === undefined) return undefined;
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }), stack: error.stack };
}

/** Circular or BigInt meta must not cost the whole log line. */
export function serializable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line.trim()}`).join('\n');
}
