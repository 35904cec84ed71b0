import { describe, expect, it } from 'vitest';
import type { LogOptions, SessionLog, SessionOptions } from 'sojourn';
import { captureWarnings, settle, world } from './helpers/counting.js';

/** A manager whose sink collects every log. */
function logged(logs: Omit<LogOptions, 'sink'> = {}, options: SessionOptions = {}) {
  const received: SessionLog[] = [];
  const w = world({ ...options, logs: { sink: (log) => void received.push(log), ...logs } });
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

  it('without a sink, log() is accepted and nothing happens', async () => {
    const { manager } = world();
    await manager.withSession((s) => s.log('into the void'));
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
