import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { SessionManager } from '../../lib/manager.js';
import type { Session } from '../../lib/session.js';
import { appOf } from '../frameworks/frameworks.js';
import { sessionOf, websocketSessions, type WebSocketSessions, type WebSocketSessionsOptions } from '../../lib/websocket.js';

/**
 * One real HTTP server: the shared test app (login over HTTP, as a browser would) and a `ws` server
 * upgraded through `websocketSessions`. Every connection greets its client with what its session
 * says, and answers `log:<text>`, `set:<key>`, `login:<user>` and `logout` messages.
 */
export interface WsHarness {
  readonly url: string;
  readonly http: ReturnType<typeof supertest>;
  readonly sockets: WebSocketSessions;
  readonly wss: WebSocketServer;
  /** The server side of every connection, in connection order. */
  readonly connected: { ws: WebSocket; session: Session }[];
  close(): Promise<void>;
}

export interface Greeting {
  kind: string;
  id: string | null;
  user: unknown;
}

const open: WsHarness[] = [];

export async function harness(
  manager: SessionManager,
  options: Omit<WebSocketSessionsOptions, 'manager'> = {},
  serverOptions: ServerOptions = {},
): Promise<WsHarness> {
  const server = http.createServer(appOf(manager));
  const wss = new WebSocketServer({ noServer: true, ...serverOptions });
  const sockets = websocketSessions({ manager, ...options });
  server.on('upgrade', sockets.handleUpgrade(wss));
  const connected: WsHarness['connected'] = [];
  wss.on('connection', (ws: WebSocket, _req: IncomingMessage) => {
    const session = sessionOf(ws);
    connected.push({ ws, session });
    ws.on('message', async (data) => {
      const [verb, arg = ''] = String(data).split(':');
      if (verb === 'log') session.log(arg);
      if (verb === 'set') await session.set(arg, true);
      if (verb === 'login') await session.authenticate({ id: arg }, 'socket');
      if (verb === 'logout') await session.destroy();
      ws.send(JSON.stringify({ done: verb, id: session.id ?? null }));
    });
    const greeting: Greeting = { kind: session.kind, id: session.id ?? null, user: session.user ?? null };
    ws.send(JSON.stringify(greeting));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const h: WsHarness = {
    url: `ws://127.0.0.1:${port}`,
    http: supertest(server),
    sockets,
    wss,
    connected,
    async close() {
      await sockets.close();
      for (const client of wss.clients) client.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(h);
  return h;
}

export async function closeHarnesses(): Promise<void> {
  await Promise.all(open.splice(0).map((h) => h.close()));
}

/** A connected real client and the server's greeting, or the HTTP status that refused the upgrade. */
export type Connect = { ws: WebSocket; greeting: Greeting; upgradeHeaders: http.IncomingHttpHeaders } | { status: number; headers: http.IncomingHttpHeaders };

export function connect(url: string, headers: Record<string, string> = {}): Promise<Connect> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    let upgradeHeaders: http.IncomingHttpHeaders = {};
    ws.once('upgrade', (res) => void (upgradeHeaders = res.headers));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      ws.terminate();
    });
    ws.once('message', (data) => resolve({ ws, greeting: JSON.parse(String(data)) as Greeting, upgradeHeaders }));
    ws.once('error', reject);
  });
}

export async function connected(url: string, headers: Record<string, string> = {}) {
  const result = await connect(url, headers);
  if ('status' in result) throw new Error(`the upgrade was refused with ${result.status}`);
  return result;
}

/** The close code and reason the client saw. */
export async function closedWith(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === ws.CLOSED) throw new Error('already closed: listen before triggering the close');
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
  return { code, reason: String(reason) };
}

/** Sends a message and waits for the server's answer to it. */
export async function request(ws: WebSocket, message: string): Promise<{ done: string; id: string | null }> {
  const answer = once(ws, 'message');
  ws.send(message);
  const [data] = (await answer) as [Buffer];
  return JSON.parse(String(data)) as { done: string; id: string | null };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
