export { createSessionManager, type SessionManager } from './manager.js';
export { sessionMiddleware, captureSessionErrors, type SessionMiddleware } from './frameworks/express.js';
export { eventStream, type EventStream, type EventStreamOptions, type EventOptions } from './frameworks/sse.js';
export { Session, type SessionBinding } from './session.js';
export type { WillCloseListener } from './lifecycle.js';
export { memoryStore } from './stores/memory.js';
export { lruCache, type LruCacheOptions } from './caches/lru.js';
export { noCache } from './caches/none.js';
export { memoryQueue } from './tasks/memory.js';
export { memoryBus } from './messages/memory.js';
export { channels, type MessageBus, type BusListener, type BusSubscription } from './messages/types.js';
export type { SessionMessages, MessageListener, Unsubscribe, StreamOptions, MessageHub } from './messages/session.js';
export type { MessageStream } from './messages/stream.js';
export type { MessageOptions } from './messages/options.js';
export type { FutureCalls, FutureCallHandler, ScheduleOptions, RecurringOptions } from './tasks/future-calls.js';
export type { FutureCallOptions, RetryOptions } from './tasks/options.js';
export type { FutureCallQueue, QueuedCall, ClaimedCall, Reschedule } from './tasks/types.js';
export { SessionError, SessionClosedError, SessionStoreError, SessionConfigError } from './errors.js';
export { DEFAULTS, type SessionOptions, type CookieOptions, type TokenMethod, type MergeActiveOrder } from './options.js';
export type { Duration } from './duration.js';
export type { SessionStore, SessionPatch } from './stores/types.js';
export type { SessionCache, CacheLookup } from './caches/types.js';
export type { LogSink, LogLevel, LogEntry, LogOptions, LogSettings, SessionLog } from './logs/types.js';
export { consoleSink, pinoSink, type ConsoleSinkOptions, type PinoLike } from './logs/sinks.js';
export type { LogCall } from './logs/buffer.js';
export type {
  CachedSession,
  Id,
  IdOrEntity,
  SessionKind,
  SessionRecord,
  SessionState,
  SessionSummary,
  SessionUser,
} from './types.js';
