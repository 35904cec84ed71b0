export { createSessionManager, type SessionManager } from './manager.js';
export type { SessionService } from './service.js';
export type { UserUpdate } from './users.js';
export type { Device, DeviceOptions } from './device.js';
export { sessionMiddleware, captureSessionErrors, type SessionMiddleware } from './frameworks/express.js';
export { eventStream, type EventStream, type EventStreamOptions, type EventOptions } from './frameworks/sse.js';
export { Session, type SessionBinding } from './session.js';
export type { WillCloseListener } from './lifecycle.js';
export { memoryStore } from './stores/memory.js';
export { lruCache, type LruCacheOptions } from './caches/lru.js';
export { noCache } from './caches/none.js';
export { memoryFleet } from './fleets/memory.js';
export type { SessionFleet, TopicListener, TopicSubscription } from './fleets/types.js';
export { memoryQueue } from './queues/memory.js';
export type { FutureCallQueue, QueuedCall, RecurringCall, RunningCall, FailedCall, QueueHost, Recurrence, RetryPolicy } from './queues/types.js';
export { topics } from './messages/topics.js';
export type { SessionMessages, MessageListener, Unsubscribe, StreamOptions, MessageHub } from './messages/session.js';
export type { MessageStream } from './messages/stream.js';
export type { FutureCalls, FutureCallHandler, ScheduleOptions, RecurringOptions, CronSchedule } from './tasks/future-calls.js';
export type { FutureCallOptions, RetryOptions } from './tasks/options.js';
export { SessionError, SessionClosedError, SessionStoreError, SessionConfigError, SessionDataError } from './errors.js';
export {
  DEFAULTS,
  type SessionOptions,
  type CookieOptions,
  type TokenMethod,
  type MergeActiveOrder,
  type MergeGuestData,
} from './options.js';
export type { Duration } from './duration.js';
export type { SessionStore, SessionPatch } from './stores/types.js';
export type { SessionCache, CacheLookup } from './caches/types.js';
export type { TokenChange } from './token/answer.js';
export type { LogSink, LogLevel, LogEntry, LogOptions, LogSettings, SessionLog } from './logs/types.js';
export { consoleSink, pinoSink, type ConsoleSinkOptions, type PinoLike } from './logs/sinks.js';
export type { LogCall } from './logs/buffer.js';
export type { LoginOptions } from './login.js';
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
