/**
 * `sojourn/websocket`: one `kind: 'websocket'` session per `ws` connection (ws 8, an optional
 * peer dependency: nothing here loads it, the server is passed in).
 *
 * ```ts
 * const wss = new WebSocketServer({ noServer: true });
 * const sockets = websocketSessions({ manager, require: 'user' });
 * server.on('upgrade', sockets.handleUpgrade(wss));
 * wss.on('connection', (ws) => {
 *   const session = sessionOf(ws);
 *   ws.send(`hello ${session.user?.id}`);
 * });
 * ```
 */
export { websocketSessions, sessionOf, type WebSocketSessions, type WebSocketSessionsOptions } from './frameworks/websocket.js';
