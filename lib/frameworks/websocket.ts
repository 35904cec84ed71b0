import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { reason, warn, warnOnce } from '../environment.js';
import { SessionConfigError } from '../errors.js';
import { serviceOf, type SessionManager } from '../manager.js';
import type { ResolvedOptions } from '../options.js';
import type { SessionService } from '../service.js';
import { sessionControl, type Session } from '../session.js';
import { tokenAnswer, type TokenChange } from '../token/answer.js';
import { extractToken, type PresentedToken } from '../token/extract.js';

export interface WebSocketSessionsOptions {
  /** The manager your HTTP middleware uses (same store, caches and token settings). */
  manager: SessionManager;
  /**
   * Refuse the upgrade with 401 unless the client presents a valid session (`'session'`) or an
   * authenticated one (`'user'`). @default false (anyone connects; the session may have no record)
   */
  require?: 'session' | 'user' | false;
  /**
   * Also read the token from this query parameter (`?token=…`), after the cookie and bearer
   * header. Opt-in: URLs end up in proxy and access logs. @default undefined (never)
   */
  queryParam?: string;
  /** Refuse the upgrade with 403 unless its `Origin` is one of these. @default undefined (any origin) */
  origins?: readonly string[];
  /** Close code sent when the socket's session is revoked, on any instance. @default 4401 */
  revokedCode?: number;
  /**
   * A token created or cleared after the handshake (`authenticate`, the first write of a socket
   * that had no session, `destroy`) cannot travel in a header any more: it is handed here, to
   * send in your own protocol. Without it a new token stays on the server (warning
   * `SOJOURN_WEBSOCKET_TOKEN`). @default undefined
   */
  onToken?: (ws: WebSocket, token: string | undefined, expiresAt: number | undefined) => void;
}

export interface WebSocketSessions {
  readonly manager: SessionManager;
  /** Sockets open with a session now. */
  readonly size: number;
  /**
   * `server.on('upgrade', sockets.handleUpgrade(wss))`: resolves the token, refuses or upgrades,
   * then `wss.emit('connection', ws, req)`; `sessionOf(ws)` is the socket's session.
   */
  handleUpgrade(wss: WebSocketServer): (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Stops listening for revocations and closes every socket's session (the sockets with 1001). */
  close(): Promise<void>;
}

const sessions = new WeakMap<WebSocket, Session>();

/** The session of a socket upgraded by `websocketSessions().handleUpgrade`; closed when the socket closes. */
export function sessionOf(ws: WebSocket): Session {
  const session = sessions.get(ws);
  if (!session) throw new TypeError('sojourn: this socket was not upgraded by websocketSessions().handleUpgrade');
  return session;
}

/**
 * One `kind: 'websocket'` session per connection, opened at the upgrade from the cookie or bearer
 * token (the HTTP rules), closed when the socket closes; a revoke on any instance closes the
 * socket with `revokedCode`.
 */
export function websocketSessions(options: WebSocketSessionsOptions): WebSocketSessions {
  const { manager, require, queryParam, origins, revokedCode, onToken } = validate(options);
  const service = serviceOf(manager);
  const live = new Set<Connection>();
  const stopListening = service.onRevoke((ids) => revoke(live, ids, revokedCode));
  const extraHeaders = new WeakMap<IncomingMessage, string[]>();
  const watched = new WeakSet<WebSocketServer>();

  async function upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', destroyQuietly); // Node removed its own listener from an upgraded socket
    if (origins && !origins.includes(String(req.headers.origin))) return refuse(socket, 403, []);
    const presented = presentedToken(req, service, queryParam);
    const secure = Boolean((req.socket as { encrypted?: boolean }).encrypted);
    const handshake: string[] = []; // token headers for the 101 (or the refusal)
    let connection: Connection | undefined;
    const route = `GET ${(req.url ?? '/').split('?')[0]}`; // never the query: it may hold the token
    const session = service.open('websocket', {
      token: (change) => {
        if (connection) return afterHandshake(connection.ws, change, onToken);
        handshake.splice(0, handshake.length, ...tokenHeaders(manager.options, presented, change, secure));
      },
      route: () => route,
      // No proxy settings reach an upgrade: the peer's address, as it connected.
      device: () => ({ userAgent: req.headers['user-agent'], ip: req.socket.remoteAddress }),
    });
    socket.once('close', () => {
      if (connection) return;
      sessionControl.abort(session, abortError('the client went away during the upgrade'));
      session.close().catch(() => {});
    });
    try {
      if (presented.via !== undefined && presented.token === undefined) handshake.push(...tokenHeaders(manager.options, presented, FORGET, secure));
      await sessionControl.load(session, presented.token);
    } catch (error) {
      await session.close({ error });
      return refuse(socket, 503, []);
    }
    if (!allowed(session, require)) {
      await session.close();
      return refuse(socket, 401, handshake);
    }
    if (socket.destroyed) return;
    extraHeaders.set(req, handshake);
    if (!watched.has(wss)) {
      watched.add(wss);
      wss.on('headers', (headers, request) => void headers.push(...(extraHeaders.get(request) ?? [])));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      connection = bind(ws, session, live);
      wss.emit('connection', ws, req);
    });
  }

  return {
    manager,
    get size() {
      return live.size;
    },
    handleUpgrade(wss) {
      return (req, socket, head) => {
        upgrade(wss, req, socket, head).catch((error: unknown) => {
          warn('SOJOURN_WEBSOCKET_UPGRADE', `WebSocket upgrade failed: ${reason(error)}`);
          socket.destroy();
        });
      };
    },
    async close() {
      stopListening();
      await Promise.all([...live].map(({ session }) => session.close()));
    },
  };
}

// ---------------------------------------------------------------------------------------

interface Connection {
  readonly ws: WebSocket;
  readonly session: Session;
}

type Resolved = Required<Omit<WebSocketSessionsOptions, 'queryParam' | 'origins' | 'onToken'>> &
  Pick<WebSocketSessionsOptions, 'queryParam' | 'origins' | 'onToken'>;

function validate(options: WebSocketSessionsOptions): Resolved {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('websocketSessions', 'takes an options object');
  const { manager, require = false, queryParam, origins, revokedCode = 4401, onToken } = options;
  if (typeof manager !== 'object' || manager === null) throw new SessionConfigError('manager', 'must be a sojourn session manager (createSessionManager)');
  if (require !== false && require !== 'session' && require !== 'user') throw new SessionConfigError('require', "must be 'session', 'user' or false");
  if (queryParam !== undefined && (typeof queryParam !== 'string' || queryParam.length === 0)) throw new SessionConfigError('queryParam', 'must be a non-empty string');
  if (origins !== undefined && (!Array.isArray(origins) || !origins.every((o) => typeof o === 'string'))) throw new SessionConfigError('origins', 'must be an array of origins');
  const validCode = Number.isInteger(revokedCode) && ((revokedCode >= 3000 && revokedCode <= 4999) || [1000, 1001, 1008].includes(revokedCode));
  if (!validCode) throw new SessionConfigError('revokedCode', 'must be 1000, 1001, 1008 or an application code 3000–4999');
  if (onToken !== undefined && typeof onToken !== 'function') throw new SessionConfigError('onToken', 'must be a function');
  return { manager, require, queryParam, origins: origins && [...origins], revokedCode, onToken };
}

/** A token that came in a query parameter: there is no way back for a new one. */
type Presented = PresentedToken | (Omit<PresentedToken, 'via'> & { readonly via: 'query' });

/** The HTTP rules (cookie / bearer in `tokenMethod` order), then the opt-in query parameter. */
function presentedToken(req: IncomingMessage, service: SessionService, queryParam: string | undefined): Presented {
  const presented = extractToken(req.headers, service.options, service.codec);
  if (presented.via !== undefined || queryParam === undefined) return presented;
  const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get(queryParam);
  return token ? { via: 'query', token: service.codec.verify(token), asked: false } : presented;
}

function allowed(session: Session, require: Resolved['require']): boolean {
  if (require === 'user') return session.isAuthenticated;
  if (require === 'session') return session.id !== undefined;
  return true;
}

/** The socket now carries the session: its close (or error) closes the session, and the reverse. */
function bind(ws: WebSocket, session: Session, live: Set<Connection>): Connection {
  const connection = { ws, session };
  sessions.set(ws, session);
  live.add(connection);
  ws.on('error', (error) => sessionControl.fail(session, error));
  ws.once('close', (code) => {
    live.delete(connection);
    sessionControl.abort(session, abortError(`the WebSocket closed (${code})`));
    session.close().catch(() => {});
  });
  session.addWillCloseListener(() => {
    if (ws.readyState === ws.CONNECTING || ws.readyState === ws.OPEN) ws.close(1001, 'session closed');
  });
  return connection;
}

/**
 * Closes the sockets whose session was revoked. Deferred one turn: `authenticate` deletes the
 * guest record (a revoke of the socket's own id) just before it adopts the new one.
 */
function revoke(live: Set<Connection>, ids: readonly string[], code: number): void {
  const gone = new Set(ids);
  const hit = [...live].filter(({ session }) => session.id !== undefined && gone.has(session.id));
  if (hit.length === 0) return;
  setImmediate(() => {
    for (const { ws, session } of hit) {
      if (session.id === undefined || gone.has(session.id)) ws.close(code, 'session revoked');
    }
  });
}

function afterHandshake(ws: WebSocket, change: TokenChange, onToken: Resolved['onToken']): void {
  if (onToken) {
    try {
      onToken(ws, change.token, change.expiresAt);
    } catch (error) {
      warn('SOJOURN_WEBSOCKET_TOKEN', `onToken threw: ${reason(error)}`);
    }
    return;
  }
  if (change.token === undefined) return;
  warnOnce('SOJOURN_WEBSOCKET_TOKEN', 'a WebSocket session got a new token after the handshake and no `onToken` was given: the client cannot learn it');
}

/** Header lines for the handshake response, by the way the token came in (see `tokenAnswer`). */
function tokenHeaders(options: ResolvedOptions, presented: Presented, change: TokenChange, secure: boolean): string[] {
  const { setCookie, header } = tokenAnswer(options, presented.via === 'query' ? { via: 'query' } : presented, change, secure);
  return [...(setCookie ? [`Set-Cookie: ${setCookie}`] : []), ...(header ? [`${header[0]}: ${header[1]}`] : [])];
}

const FORGET: TokenChange = Object.freeze({ token: undefined, expiresAt: undefined });

function refuse(socket: Duplex, status: 401 | 403 | 503, headers: readonly string[]): void {
  if (socket.destroyed) return;
  const body = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' }[status];
  const head = [`HTTP/1.1 ${status} ${body}`, 'Connection: close', 'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`, ...headers];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function destroyQuietly(this: Duplex): void {
  this.destroy();
}

function abortError(message: string): Error {
  const error = new Error(message);
  error.name = 'AbortError';
  return error;
}
