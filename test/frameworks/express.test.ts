import http, { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5, { type Request, type RequestHandler } from 'express';
import express4 from 'express4';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Session, SessionClosedError, sessionMiddleware, type SessionManager } from '../../lib/index.js';
import { deferred } from '../helpers/http.js';
import { express4Framework, express5Framework } from './frameworks.js';
import { sessionScenarios } from './scenarios.js';

// The shared scenarios (scenarios.ts) on both Express majors; the same list runs on Koa in koa.test.ts.
describe.each([
  ['express 4', express4Framework],
  ['express 5', express5Framework],
])('%s', (_name, framework) => {
  sessionScenarios(framework);
});

// `req.session` is an ordinary property of the request: nothing of Express's or Node's is touched.
describe.each([
  ['express 4', express4 as unknown as typeof express5],
  ['express 5', express5],
])('%s: req.session', (_name, express) => {
  const managers: SessionManager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((manager) => manager.close()));
  });

  function appWithSession() {
    const middleware = sessionMiddleware({ secret: 'test-secret-0123456789' });
    managers.push(middleware.manager);
    const app = express();
    app.use(middleware);
    return app;
  }

  it("with Express's default error handler, a write then a throw answers 500 with the new cookie", async () => {
    const app = appWithSession();
    app.get('/boom', async (req, _res, next) => {
      await req.session.set('before', 1);
      next(new Error('boom')); // Express 4 takes no rejection: the same path on both majors
    });
    app.get('/read', (req, res) => void res.json({ before: req.session.get('before') ?? null }));
    const failed = await request(app).get('/boom').expect(500);
    const cookie = failed.headers['set-cookie']?.[0];
    expect(cookie).toMatch(/^session=[^;]+; Max-Age=/);
    const res = await request(app).get('/read').set('Cookie', cookie!.split(';')[0]!).expect(200);
    expect(res.body).toEqual({ before: 1 });
  });

  it('is an own property of each request, and neither Express’s nor Node’s prototypes get one', async () => {
    const app = appWithSession();
    const seen: Session[] = [];
    app.get('/', (req, res) => {
      seen.push(req.session);
      res.json({ isSession: req.session instanceof Session, own: Object.hasOwn(req, 'session') });
    });
    const [a, b] = await Promise.all([request(app).get('/'), request(app).get('/')]);
    expect(a!.body).toEqual({ isSession: true, own: true });
    expect(b!.body).toEqual({ isSession: true, own: true });
    expect(seen[0]).not.toBe(seen[1]); // one session per request
    expect(Object.hasOwn(express.request, 'session')).toBe(false);
    expect(Object.hasOwn(IncomingMessage.prototype, 'session')).toBe(false);
  });

  it('reads the same in a mounted sub-app and in a router', async () => {
    const app = appWithSession();
    const sub = express();
    const router = express.Router();
    let outer: Session | undefined;
    app.use((req, _res, next) => {
      outer = req.session;
      next();
    });
    sub.get('/where', (req, res) => res.json({ same: req.session === outer }));
    router.get('/where', (req, res) => res.json({ same: req.session === outer }));
    app.use('/sub', sub);
    app.use('/router', router);
    app.get('/after', (req, res) => res.json({ same: req.session === outer }));
    for (const path of ['/sub/where', '/router/where', '/after']) {
      expect((await request(app).get(path).expect(200)).body).toEqual({ same: true });
    }
  });

  it('replaces a session an earlier middleware put on the request', async () => {
    const middleware = sessionMiddleware({ secret: 'test-secret-0123456789' });
    managers.push(middleware.manager);
    const app = express();
    app.use((req, _res, next) => {
      (req as { session: unknown }).session = { earlier: true };
      next();
    });
    app.use(middleware);
    app.get('/', (req, res) => res.json({ isSession: req.session instanceof Session }));
    expect((await request(app).get('/').expect(200)).body).toEqual({ isSession: true });
  });

  it('is there for a finish listener (a request logger), and after the response is the closed session', async () => {
    const app = appWithSession();
    const seen = deferred<{ atFinish: string | undefined; afterClose: unknown; error: unknown }>();
    app.post('/', async (req, res) => {
      await req.session.set('x', 1);
      let atFinish: string | undefined;
      res.on('finish', () => (atFinish = req.session.id));
      res.on('close', () =>
        setImmediate(() => {
          let error: unknown;
          try {
            req.session.get('x');
          } catch (caught) {
            error = caught;
          }
          seen.resolve({ atFinish, afterClose: { same: req.session === kept, closed: req.session.isClosed, id: req.session.id }, error });
        }),
      );
      const kept = req.session;
      res.json({ id: req.session.id });
    });
    const { body } = await request(app).post('/').expect(200);
    const { atFinish, afterClose, error } = await seen.promise;
    expect(atFinish).toBe(body.id);
    expect(afterClose).toEqual({ same: true, closed: true, id: body.id });
    expect(error).toBeInstanceOf(SessionClosedError);
  });

  it('with two session middlewares the later one’s session is req.session', async () => {
    const first = sessionMiddleware({ secret: 'test-secret-0123456789' });
    const second = sessionMiddleware({ secret: 'test-secret-0123456789' });
    managers.push(first.manager, second.manager);
    const opened: Session[] = [];
    const capture: RequestHandler = (req, _res, next) => {
      opened.push(req.session);
      next();
    };
    const app = express();
    app.use(first, capture, second, capture);
    app.get('/', (req, res) => res.json({ later: req.session === opened[1] }));
    expect((await request(app).get('/').expect(200)).body).toEqual({ later: true });
    expect(opened[0]).not.toBe(opened[1]);
  });
});

describe('req.session outside Express', () => {
  it('a plain http request gets it too', async () => {
    const middleware = sessionMiddleware({ secret: 'test-secret-0123456789' });
    const server = http.createServer((req, res) => {
      middleware(req as Request, res as never, () => {
        res.end(JSON.stringify({ own: Object.hasOwn(req, 'session'), isSession: (req as Request).session instanceof Session }));
      });
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).json();
      expect(body).toEqual({ own: true, isSession: true });
    } finally {
      server.close();
      await middleware.manager.close();
    }
  });
});
