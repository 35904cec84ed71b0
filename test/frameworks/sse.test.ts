import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSessionManager, type EventStream, type EventStreamOptions, type Session, type SessionLog, type SessionOptions } from '../../lib/index.js';
import { connectEventStream, cookiePair, deferred, listen, setCookieOf, type Deferred } from '../helpers/http.js';
import { FRAMEWORKS, type Framework, type Route } from './frameworks.js';
import { SECRET, trackManagers } from './scenarios.js';

/** What the `/events` route saw, for the test to drive and inspect. */
interface Opened {
  readonly stream: EventStream;
  readonly session: Session;
  readonly events: string[];
}

const servers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe.each(FRAMEWORKS.map((framework) => [framework.name, framework] as const))('%s: event streams', (_name, framework) => {
  const managers = trackManagers();

  it('a client reads events; disconnecting aborts the signal, runs the will-close listener, closes the stream session', async () => {
    const logs: SessionLog[] = [];
    const { port, opened, manager } = await serve(framework, { logs: { sink: (log) => void logs.push(log), logAll: true } });
    const client = await connectEventStream(port, '/events');
    expect(client.response.statusCode).toBe(200);
    expect(client.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.response.headers['cache-control']).toBe('no-cache, no-transform');
    const { stream, session, events } = await opened.promise;
    expect(session.kind).toBe('stream');
    expect(stream.signal).toBe(session.signal);

    stream.send({ n: 1 });
    stream.send('two\nlines', { event: 'note', id: 2 });
    expect(await client.received(2)).toEqual([
      { data: '{"n":1}' },
      { event: 'note', id: '2', data: 'two\nlines' },
    ]);
    expect(client.comments).toContain('ok');
    expect(manager.openSessions).toBe(1);
    expect(session.state).toBe('open');

    client.close();
    await vi.waitFor(() => expect(manager.openSessions).toBe(0));
    expect(events).toEqual(['abort AbortError', 'will-close aborted=true']);
    expect(session.isClosed).toBe(true);
    expect(stream.closed).toBe(true);
    expect(stream.send('late')).toBe(false);
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    expect(logs[0]).toMatchObject({ kind: 'stream', route: 'GET /events' });
  });

  it('a stream the server ends closes the session (no error) once the response has finished; never logged slow', async () => {
    const logs: SessionLog[] = [];
    let now = Date.UTC(2030, 0, 1);
    const { port, opened, manager } = await serve(framework, {
      clock: () => now,
      logs: { sink: (log) => void logs.push(log), logAll: true, slowMs: 1 },
    });
    const client = await connectEventStream(port, '/events');
    const { stream, session, events } = await opened.promise;
    stream.send('last');
    now += 60_000; // a minute-long stream: long, not slow
    stream.close();
    stream.close(); // idempotent
    await client.ended;
    expect(client.events).toEqual([{ data: 'last' }]);
    await vi.waitFor(() => expect(manager.openSessions).toBe(0));
    expect(session.isClosed).toBe(true);
    expect(stream.signal.aborted).toBe(true);
    expect(events).toEqual(['will-close aborted=false', 'abort AbortError']); // a normal close: the signal aborts last
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    expect(logs[0]).toMatchObject({ kind: 'stream', route: 'GET /events', error: undefined, duration: 60_000, slow: false });
  });

  it("the stream carries the request's session; revoking it (logout elsewhere) ends the stream", async () => {
    const { app, port, opened, manager } = await serve(framework);
    const created = await request(app).post('/order/o1').expect(200);
    const client = await connectEventStream(port, '/events', { cookie: cookiePair(setCookieOf(created)!) });
    const { stream, session } = await opened.promise;
    expect(session.id).toBe(created.body.id);
    expect(session.activeOrderId).toBe('o1');
    stream.send('hello');
    await client.received(1);

    await manager.deleteSession(created.body.id);
    await client.ended;
    await vi.waitFor(() => expect(manager.openSessions).toBe(0));
    expect(stream.closed).toBe(true);
  });

  it('keep-alive comments flow on the interval; comment() sends one comment line per line of text', async () => {
    const { port, opened, manager } = await serve(framework, {}, { keepAlive: 10 });
    const client = await connectEventStream(port, '/events');
    const { stream } = await opened.promise;
    await vi.waitFor(() => expect(client.comments.filter((c) => c === '').length).toBeGreaterThanOrEqual(2));
    stream.comment('hi\nthere');
    stream.close();
    await client.ended;
    expect(client.comments).toEqual(expect.arrayContaining(['hi', 'there']));
    await vi.waitFor(() => expect(manager.openSessions).toBe(0));
  });

  it('manager.close() ends open streams', async () => {
    const { port, opened, manager } = await serve(framework);
    managers.delete(manager);
    const client = await connectEventStream(port, '/events');
    const { events } = await opened.promise;
    await manager.close();
    await client.ended;
    expect(manager.openSessions).toBe(0);
    expect(events).toEqual(['will-close aborted=false', 'abort AbortError']);
  });

  it('Last-Event-ID is handed to the route; a bad event name, a second stream, or a bad keepAlive is a TypeError', async () => {
    const { port, opened } = await serve(framework);
    const client = await connectEventStream(port, '/events', { 'last-event-id': '41' });
    const { stream } = await opened.promise;
    expect(stream.lastEventId).toBe('41');
    expect(() => stream.send('x', { event: 'a\nid: 9' })).toThrow(TypeError);
    expect(() => stream.send('x', { id: '1\r2' })).toThrow(TypeError);
    stream.close();
    await client.ended;

    const failures = deferred<unknown[]>();
    const { port: port2 } = await serve(framework, {}, undefined, [
      {
        method: 'get',
        path: '/twice',
        handle: (ctx) => {
          const caught: unknown[] = [];
          for (const attempt of [() => ctx.stream({ keepAlive: 'soon' as never }), () => ctx.stream(), () => ctx.stream()]) {
            try {
              attempt();
            } catch (error) {
              caught.push(error);
            }
          }
          failures.resolve(caught);
          return undefined;
        },
      },
    ]);
    const twice = await connectEventStream(port2, '/twice');
    const errors = await failures.promise;
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect(errors[0]).toMatchObject({ message: expect.stringContaining('`keepAlive`') });
    expect(errors[1]).toMatchObject({ message: expect.stringContaining('not a stream session') });
    twice.close();
  });

  // ---------------------------------------------------------------------------------------

  /** An app whose `GET /events` opens a stream and hands it to the test. */
  async function serve(framework: Framework, options: SessionOptions = {}, streamOptions?: EventStreamOptions, routes: Route[] = []) {
    const manager = createSessionManager({ secret: SECRET, ...options });
    managers.add(manager);
    const opened: Deferred<Opened> = deferred<Opened>();
    const events: string[] = [];
    const route: Route = {
      method: 'get',
      path: '/events',
      handle: (ctx) => {
        const stream = ctx.stream(streamOptions);
        const { session } = ctx;
        stream.signal.addEventListener('abort', () => events.push(`abort ${(stream.signal.reason as Error).name}`));
        session.addWillCloseListener((s) => void events.push(`will-close aborted=${s.signal.aborted}`));
        opened.resolve({ stream, session, events });
      },
    };
    const { app } = framework.mount({ manager }, [route, ...routes]);
    const server = await listen(app);
    servers.push(server);
    return { app, port: server.port, opened, manager };
  }
});
