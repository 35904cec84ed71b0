/**
 * The error hierarchy. Expected outcomes (a junk, unknown or expired token) are values, not
 * errors; these are for misuse and for failures the caller must hear about.
 */
export class SessionError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A session was used after it closed, e.g. captured in a timer that fired after the response. */
export class SessionClosedError extends SessionError {
  constructor(member: string, kind: string) {
    super(
      `sojourn: session.${member} used after the ${kind} session closed; ` +
        'work that must outlive the request needs its own session (manager.withSession)',
      'ERR_SESSION_CLOSED',
    );
  }
}

/** The durable store failed; passed to the framework's error handling (Express next(err), Koa throw). */
export class SessionStoreError extends SessionError {
  readonly store: string;
  /** 503: the session layer is unavailable, the request itself was fine. */
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = false;

  constructor(store: string, operation: string, cause: unknown) {
    super(`sojourn: ${store} store failed to ${operation}`, 'ERR_SESSION_STORE', { cause });
    this.store = store;
  }
}

/**
 * Session data the application tried to write was refused, and nothing was written:
 * `ERR_SESSION_DATA_TOO_LARGE` (over `maxDataBytes`) or `ERR_SESSION_DATA_KEY` (a key such as
 * `__proto__` that would behave differently from one store to another).
 */
export class SessionDataError extends SessionError {
  constructor(message: string, code: 'ERR_SESSION_DATA_TOO_LARGE' | 'ERR_SESSION_DATA_KEY') {
    super(`sojourn: ${message}`, code);
  }
}

/**
 * A wrong or missing option. A TypeError, so start-up fails the way lru-cache and Node's own
 * APIs fail on bad arguments; `option` names the culprit.
 */
export class SessionConfigError extends TypeError {
  readonly code = 'ERR_SESSION_CONFIG';
  readonly option: string;

  constructor(option: string, message: string) {
    super(`sojourn: option \`${option}\` ${message}`);
    this.name = 'SessionConfigError';
    this.option = option;
  }
}
