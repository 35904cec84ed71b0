import { describe, expect, it, vi } from 'vitest';
import { consoleSink, pinoSink, SessionClosedError, SessionConfigError, type LogOptions, type SessionLog, type SessionOptions } from 'sojourn';
import { settle, world } from './helpers/counting.js';
import { captureWarnings } from './helpers/warnings.js';

/**
 * A manager whose sink collects every log. `logAll` is off unless a test turns it on: its
 * default follows NODE_ENV (on outside production), which has a test of its own.
 */
function logged(logs: Omit<LogOptions, 'sink'> = {}, options: SessionOptions = {}) {
  const received: SessionLog[] = [];
  const w = world({ ...options, logs: { sink: (log) => void received.push(log), logAll: false, ...logs } });
  return { ...w, received };
}

describe('session logs', () => {
  it('session.log buffers; on close the sink receives ONE SessionLog with the session context', async () => {
    const { manager, received, advance, now } = logged();
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u1' }, 'password');
    const started = now();
    const s = await manager.createSession({ token });
    s.log('first');
    advance(120);
    s.log('second', { level: 'warn', meta: { sku: 'A-1' } });
    expect(received).toHaveLength(0); // buffered until close
    advance(30);
    await s.close();
    expect(received).toHaveLength(1);
    const log = received[0]!;
    expect(log).toMatchObject({
      kind: 'internal',
      route: undefined,
      sessionId: record.id,
      userId: 'u1',
      startedAt: started,
      duration: 150,
      error: undefined,
      slow: false,
      open: false,
    });
    expect(log.entries).toEqual([
      { time: started, level: 'info', message: 'first', error: undefined, meta: undefined },
      { time: started + 120, level: 'warn', message: 'second', error: undefined, meta: { sku: 'A-1' } },
    ]);
    await s.close();
    expect(received).toHaveLength(1);
  });

  it('the kind is the one the session was opened with; a record created during the work is named', async () => {
    const { manager, received } = logged();
    await manager.withSession(
      async (s) => {
        await s.set('x', 1);
        s.log('did work');
      },
      { kind: 'task' },
    );
    expect(received).toHaveLength(1);
    expect(received[0]!.kind).toBe('task');
    expect(received[0]!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(received[0]!.userId).toBeUndefined();
  });

  it('a quiet, fast, successful session emits nothing; with logAll it does', async () => {
    const quiet = logged();
    await quiet.manager.withSession(() => {});
    expect(quiet.received).toHaveLength(0);

    const all = logged({ logAll: true });
    await all.manager.withSession(() => {});
    expect(all.received).toHaveLength(1);
    expect(all.received[0]).toMatchObject({ kind: 'internal', slow: false, entries: [], error: undefined });
  });

  it('slow flag when duration > slowMs (injected clock), emitted even without entries', async () => {
    const { manager, received, advance } = logged({ slowMs: 1000 });
    const atLimit = await manager.createSession();
    advance(1000);
    await atLimit.close();
    expect(received).toHaveLength(0); // exactly slowMs is not slow

    const slow = await manager.createSession();
    advance(1001);
    await slow.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ slow: true, duration: 1001, entries: [] });
  });

  it('slowMs accepts a duration string', async () => {
    const { manager, received, advance } = logged({ slowMs: '2s' });
    const s = await manager.createSession();
    advance(2001);
    await s.close();
    expect(received[0]?.slow).toBe(true);
  });

  it('a failed session is logged with its error (withSession rethrows it)', async () => {
    const { manager, received } = logged();
    const error = new Error('charge failed');
    await expect(manager.withSession(() => Promise.reject(error))).rejects.toBe(error);
    expect(received).toHaveLength(1);
    expect(received[0]!.error).toBe(error);
  });

  it('entries below `level` are dropped', async () => {
    const { manager, received } = logged({ level: 'warn' });
    await manager.withSession((s) => {
      s.log('debug', { level: 'debug' });
      s.log('info'); // default level: info
      s.log('warn', { level: 'warn' });
      s.log('error', { level: 'error', error: new Error('x') });
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.entries.map((e) => e.message)).toEqual(['warn', 'error']);
  });

  it('only dropped entries: a quiet session, nothing emitted', async () => {
    const { manager, received } = logged({ level: 'error' });
    await manager.withSession((s) => s.log('chatter'));
    expect(received).toHaveLength(0);
  });

  it('debug level keeps everything', async () => {
    const { manager, received } = logged({ level: 'debug' });
    await manager.withSession((s) => {
      s.log('a', { level: 'debug' });
      s.log('b');
    });
    expect(received[0]!.entries.map((e) => e.level)).toEqual(['debug', 'info']);
  });

  it('an unknown level is a TypeError', async () => {
    const { manager } = logged();
    await using s = await manager.createSession();
    expect(() => s.log('x', { level: 'loud' as never })).toThrow(TypeError);
  });

  it('without a sink, log() is accepted and still validated, and the session closes without writing anything', async () => {
    const { manager } = world();
    const logged = await manager.withSession((s) => {
      s.log('into the void');
      expect(() => s.log('x', { level: 'loud' as never })).toThrow(TypeError);
      return s;
    });
    expect(logged.isClosed).toBe(true);
    expect(manager.options.logs.sink).toBeUndefined();
  });

  it('a will-close listener that throws shows up in the log', async () => {
    const { manager, received } = logged();
    const capture = captureWarnings('SOJOURN_LISTENER_FAILED');
    try {
      await manager.withSession((s) => {
        s.addWillCloseListener(() => {
          throw new Error('cleanup failed');
        });
      });
      expect(received).toHaveLength(1);
      expect(received[0]!.entries).toEqual([
        expect.objectContaining({ level: 'error', error: expect.objectContaining({ message: 'cleanup failed' }) }),
      ]);
    } finally {
      capture.stop();
    }
  });

  it.each([
    ['throws', () => {
      throw new Error('sink exploded');
    }],
    ['rejects', () => Promise.reject(new Error('sink exploded'))],
  ])('a sink that %s never affects close, and warns SOJOURN_LOG_SINK', async (_name, sink) => {
    const { manager } = world({ logs: { sink, logAll: true } });
    const capture = captureWarnings('SOJOURN_LOG_SINK');
    try {
      const s = await manager.createSession();
      let listenerRan = false;
      s.addWillCloseListener(() => void (listenerRan = true));
      await expect(s.close()).resolves.toBeUndefined();
      expect(s.state).toBe('closed');
      expect(listenerRan).toBe(true);
      expect(manager.openSessions).toBe(0);
      await expect(manager.withSession(() => 'still works')).resolves.toBe('still works');
      await settle();
      expect(capture.warnings.length).toBeGreaterThanOrEqual(1);
      expect(capture.warnings[0]!.message).toContain('sink exploded');
    } finally {
      capture.stop();
    }
  });

  it('a slow sink does not hold close up', async () => {
    let release!: () => void;
    const { manager } = world({ logs: { sink: () => new Promise<void>((resolve) => (release = resolve)), logAll: true } });
    const s = await manager.createSession();
    await s.close(); // would hang if close awaited the sink
    expect(s.isClosed).toBe(true);
    release();
  });

  it('the token never appears in any log', async () => {
    const { manager, received, advance } = logged({ logAll: true, level: 'debug' });
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u1' }, 'password');
    const secret = token.slice(37);
    await manager.withSession(
      async (s) => {
        s.log('working', { meta: { note: 'hi' } });
        await s.set('k', 'v');
        advance(5_000);
      },
      { token },
    );
    await expect(
      manager.withSession(
        async (s) => {
          s.log('about to fail', { level: 'debug' });
          throw new Error('failed');
        },
        { token },
      ),
    ).rejects.toThrow('failed');
    const s = await manager.createSession({ token });
    s.addWillCloseListener(() => {
      throw new Error('listener failed');
    });
    const capture = captureWarnings('SOJOURN_LISTENER_FAILED');
    await s.close({ error: new Error('closing with error') });
    capture.stop();

    expect(received.length).toBe(3);
    for (const log of received) {
      const text = JSON.stringify(log, (_key, value: unknown) =>
        value instanceof Error ? { message: value.message, stack: value.stack, cause: value.cause } : value,
      );
      expect(text).toContain(record.id);
      expect(text).not.toContain(token);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(record.secretHash);
    }
  });
});

describe('session logs: settings (Serverpod names: logAllSessions → logAll, logSlowSessions → logSlow, slowSessionDuration → slowMs, logFailedSessions → logFailed, logLevel → level)', () => {
  it('logAll is on outside production and off in production by default', async () => {
    captureWarnings('SOJOURN_MEMORY_STORE'); // production with the memory store: said, and expected here
    for (const [env, expected] of [['development', 1], ['test', 1], ['production', 0]] as const) {
      vi.stubEnv('NODE_ENV', env);
      try {
        const received: SessionLog[] = [];
        const { manager } = world({ secret: 'a production secret of at least 32 bytes', logs: { sink: (log) => void received.push(log) } });
        await manager.withSession(() => {});
        expect(received, `NODE_ENV=${env}`).toHaveLength(expected);
      } finally {
        vi.unstubAllEnvs();
      }
    }
  });

  it('logSlow: false keeps a slow, quiet session out; when logged for another reason it is still marked slow', async () => {
    const { manager, received, advance } = logged({ logSlow: false, slowMs: 100 });
    const quiet = await manager.createSession();
    advance(500);
    await quiet.close();
    expect(received).toHaveLength(0);

    const talkative = await manager.createSession();
    talkative.log('note');
    advance(500);
    await talkative.close();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ slow: true, duration: 500 });
  });

  it('logFailed: false keeps a failed, quiet session out; with entries it is logged with its error', async () => {
    const { manager, received } = logged({ logFailed: false });
    const boom = new Error('boom');
    await expect(manager.withSession(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(received).toHaveLength(0);
    await expect(
      manager.withSession((s) => {
        s.log('trying');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(received).toHaveLength(1);
    expect(received[0]!.error).toBe(boom);
  });

  it('slow and failed are both reported on one log', async () => {
    const { manager, received, advance } = logged({ slowMs: 10 });
    const s = await manager.createSession();
    advance(11);
    await s.close({ error: new Error('late and broken') });
    expect(received[0]).toMatchObject({ slow: true, error: expect.objectContaining({ message: 'late and broken' }) });
  });
});

describe('session logs: per-session overrides (session.setLogOptions)', () => {
  it('turns logAll on for one session (a route that must always be logged) and off for another (a health check)', async () => {
    const { manager, received } = logged();
    await manager.withSession((s) => s.setLogOptions({ logAll: true }), { kind: 'task' });
    expect(received.map((log) => log.kind)).toEqual(['task']);

    const noisy = logged({ logAll: true, slowMs: 1 });
    await noisy.manager.withSession((s) => {
      s.setLogOptions({ logAll: false, logSlow: false });
      noisy.advance(50);
    });
    expect(noisy.received).toHaveLength(0);
  });

  it('a lower level keeps the entries logged after the call', async () => {
    const { manager, received } = logged({ level: 'warn' });
    await manager.withSession((s) => {
      s.log('dropped', { level: 'debug' });
      s.setLogOptions({ level: 'debug' });
      s.log('kept', { level: 'debug' });
    });
    expect(received[0]!.entries.map((e) => e.message)).toEqual(['kept']);
  });

  it('refuses wrong values and the sink (SessionConfigError naming logs.<key>), and use after close', async () => {
    const { manager } = logged();
    const s = await manager.createSession();
    expect(() => s.setLogOptions({ level: 'loud' as never })).toThrow(SessionConfigError);
    expect(() => s.setLogOptions({ slowMs: -1 })).toThrow('`logs.slowMs`');
    expect(() => s.setLogOptions({ logAll: 'yes' as never })).toThrow('`logs.logAll`');
    expect(() => s.setLogOptions({ sink: () => {} } as never)).toThrow('`logs.sink`');
    await s.close();
    expect(() => s.setLogOptions({ logAll: true })).toThrow(SessionClosedError);
  });

  it('without a sink it is accepted and still validated', async () => {
    const { manager } = world();
    await manager.withSession((s) => {
      s.setLogOptions({ logAll: true });
      expect(() => s.setLogOptions({ slowMs: -1 })).toThrow('`logs.slowMs`');
    });
  });
});

describe('session logs: long-lived sessions (stream, websocket) send entries as they come', () => {
  it.each(['websocket', 'stream'] as const)('%s: each entry reaches the sink before close, then the close; never slow', async (kind) => {
    const { manager, received, advance, now } = logged({ slowMs: 10 });
    const started = now();
    const s = await manager.createSession({ kind });
    s.log('connected');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ kind, open: true, slow: false, duration: 0, entries: [expect.objectContaining({ message: 'connected' })] });
    advance(3_600_000);
    s.log('an hour later', { level: 'warn' });
    expect(received).toHaveLength(2);
    expect(received[1]).toMatchObject({ open: true, duration: 3_600_000, entries: [expect.objectContaining({ time: started + 3_600_000 })] });
    await s.close();
    expect(received).toHaveLength(3);
    expect(received[2]).toMatchObject({ kind, open: false, slow: false, duration: 3_600_000, entries: [] });
  });

  it('a quiet long-lived session is not logged (not even when long); a failed one is', async () => {
    const { manager, received, advance } = logged({ slowMs: 10 });
    const quiet = await manager.createSession({ kind: 'websocket' });
    advance(60_000);
    await quiet.close();
    expect(received).toHaveLength(0);
    const failed = await manager.createSession({ kind: 'websocket' });
    await failed.close({ error: new Error('socket error') });
    expect(received).toMatchObject([{ open: false, error: expect.objectContaining({ message: 'socket error' }) }]);
  });

  it('a throwing sink on a streamed entry never reaches the caller of log()', async () => {
    const { manager } = world({
      logs: {
        sink: () => {
          throw new Error('sink exploded');
        },
      },
    });
    const capture = captureWarnings('SOJOURN_LOG_SINK');
    try {
      const s = await manager.createSession({ kind: 'websocket' });
      expect(() => s.log('entry')).not.toThrow();
      await expect(s.close()).resolves.toBeUndefined();
      await settle();
      expect(capture.warnings.length).toBe(2); // the entry and the close
    } finally {
      capture.stop();
    }
  });
});

/** A real `{ write }` stream target that keeps what it is given. */
function lines() {
  const written: string[] = [];
  return { written, stream: { write: (chunk: string) => void written.push(chunk) } };
}

describe('consoleSink', () => {
  it('text: one line per session, one indented line per entry, no token', async () => {
    const out = lines();
    const { manager, advance } = world({ logs: { sink: consoleSink({ format: 'text', stream: out.stream }), logAll: false } });
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u1' }, 'password');
    await expect(
      manager.withSession(
        (s) => {
          s.log('charging', { meta: { amount: 12 } });
          advance(1500);
          throw new Error('card declined');
        },
        { token },
      ),
    ).rejects.toThrow('card declined');
    const text = out.written.join('');
    const [head, ...rest] = text.trimEnd().split('\n');
    expect(head).toMatch(new RegExp(`^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} internal - 1500ms user=u1 session=${record.id} SLOW FAILED Error: card declined$`));
    expect(rest.at(-1)).toMatch(/^ {2}\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}charging \{"amount":12\}$/);
    expect(rest.slice(0, -1).every((line) => line.startsWith('    at '))).toBe(true); // the error's stack
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(37));
  });

  it('json: one parseable line per SessionLog, errors as plain fields, unserializable meta survives', async () => {
    const out = lines();
    const { manager } = world({ logs: { sink: consoleSink({ format: 'json', stream: out.stream }), logAll: true } });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await manager.withSession((s) => {
      s.log('fine', { meta: { a: 1 } });
      s.log('odd', { level: 'warn', meta: circular, error: new Error('inner') });
    });
    expect(out.written).toHaveLength(1);
    expect(out.written[0]!.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(out.written[0]!);
    expect(parsed).toMatchObject({ kind: 'internal', slow: false, open: false, time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    expect(parsed.entries).toEqual([
      { time: expect.any(String), level: 'info', message: 'fine', meta: { a: 1 } },
      { time: expect.any(String), level: 'warn', message: 'odd', meta: '[unserializable]', error: expect.objectContaining({ name: 'Error', message: 'inner', stack: expect.any(String) }) },
    ]);
  });

  it('writes to process.stdout by default, text outside production and JSON in production', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const dev = consoleSink();
      vi.stubEnv('NODE_ENV', 'production');
      const prod = consoleSink();
      vi.unstubAllEnvs();
      const log: SessionLog = { kind: 'request', route: 'GET /x', sessionId: undefined, userId: undefined, startedAt: 0, duration: 3, error: undefined, slow: false, open: false, entries: [] };
      await dev(log);
      await prod(log);
    } finally {
      spy.mockRestore();
    }
    expect(written[0]).toBe('00:00:00.000 request GET /x 3ms\n');
    expect(JSON.parse(written[1]!)).toMatchObject({ kind: 'request', route: 'GET /x', duration: 3 });
  });

  it('refuses a wrong format or stream', () => {
    expect(() => consoleSink({ format: 'xml' as never })).toThrow(TypeError);
    expect(() => consoleSink({ stream: {} as never })).toThrow(TypeError);
  });
});

describe('pinoSink', () => {
  /** A real implementation of the `{ debug, info, warn, error }` interface: it keeps every call. */
  function recorder() {
    const calls: { level: string; object: Record<string, unknown>; message: string | undefined }[] = [];
    const at = (level: string) => (object: object, message?: string) => void calls.push({ level, object: object as Record<string, unknown>, message });
    return { calls, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
  }

  it('one call per entry at its level, then one for the closed session (error > warn for slow > info)', async () => {
    const { calls, logger } = recorder();
    const { manager, advance } = world({ logs: { sink: pinoSink(logger), level: 'debug', logAll: true, slowMs: 100 } });
    const { token, session: record } = await manager.createNewAuthenticatedSession({ id: 'u1' }, 'password');
    const declined = new Error('declined');
    await manager.withSession(
      (s) => {
        s.log('looking', { level: 'debug', meta: { sku: 'A' } });
        s.log('declined', { level: 'error', error: declined });
      },
      { token },
    );
    const session = { id: record.id, userId: 'u1', kind: 'internal', route: undefined };
    expect(calls).toEqual([
      { level: 'debug', object: { sku: 'A', session }, message: 'looking' },
      { level: 'error', object: { session, err: declined }, message: 'declined' },
      { level: 'info', object: { session: { ...session, duration: 0, slow: false } }, message: 'session closed' },
    ]);
    calls.length = 0;
    await manager.withSession(() => advance(101));
    expect(calls.map((c) => [c.level, c.message])).toEqual([['warn', 'slow session']]);
    calls.length = 0;
    await expect(manager.withSession(() => Promise.reject(declined))).rejects.toBe(declined);
    expect(calls).toMatchObject([{ level: 'error', message: 'session failed', object: { err: declined } }]);
    expect(JSON.stringify(calls)).not.toContain(token.slice(37));
  });

  it('a long-lived session: entries as they come, the close at the end', async () => {
    const { calls, logger } = recorder();
    const { manager } = world({ logs: { sink: pinoSink(logger), logAll: false } });
    const s = await manager.createSession({ kind: 'websocket' });
    s.log('message in');
    expect(calls.map((c) => c.message)).toEqual(['message in']);
    await s.close();
    expect(calls.map((c) => c.message)).toEqual(['message in', 'session closed']);
  });

  it('keeps the logger as `this` (pino methods need it) and refuses a logger without the four methods', async () => {
    class Logger {
      readonly seen: string[] = [];
      debug(_o: object, m?: string) { this.seen.push(`debug ${m}`); }
      info(_o: object, m?: string) { this.seen.push(`info ${m}`); }
      warn(_o: object, m?: string) { this.seen.push(`warn ${m}`); }
      error(_o: object, m?: string) { this.seen.push(`error ${m}`); }
    }
    const logger = new Logger();
    const { manager } = world({ logs: { sink: pinoSink(logger), logAll: true } });
    await manager.withSession((s) => s.log('hi'));
    expect(logger.seen).toEqual(['info hi', 'info session closed']);
    expect(() => pinoSink({ info() {}, warn() {}, error() {} } as never)).toThrow(TypeError);
    expect(() => pinoSink(undefined as never)).toThrow(TypeError);
  });
});
