import { describe, expect, it } from 'vitest';
import { Session, SessionClosedError, SessionError, type SessionLog } from 'sojourn';
import { outcome, settle, world } from './helpers/counting.js';
import { captureWarnings } from './helpers/warnings.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('states', () => {
  it('open → closing (while listeners run) → closed', async () => {
    const { manager } = world();
    const s = await manager.createSession();
    expect([s.state, s.isClosed]).toEqual(['open', false]);
    const seen: string[] = [];
    s.addWillCloseListener((session) => {
      expect(session).toBe(s);
      seen.push(`${session.state}/${String(session.isClosed)}`);
    });
    const closing = s.close();
    expect(s.state).toBe('closing');
    await closing;
    expect(seen).toEqual(['closing/false']);
    expect([s.state, s.isClosed]).toEqual(['closed', true]);
  });

  it('without will-close listeners, closed before close() returns (nothing to await), and the log is written', async () => {
    const entries: SessionLog[] = [];
    const { manager } = world({ logs: { sink: (log) => void entries.push(log), logAll: true } });
    const s = await manager.createSession();
    const opened = manager.openSessions;
    const closing = s.close();
    expect([s.state, s.isClosed, manager.openSessions, entries.length]).toEqual(['closed', true, opened - 1, 1]);
    await expect(closing).resolves.toBeUndefined();
    expect(s.close()).toBe(closing);
  });
});

describe('will-close listeners', () => {
  it('run once, in insertion order, each awaited before the next starts', async () => {
    const { manager } = world();
    const s = await manager.createSession();
    const events: string[] = [];
    s.addWillCloseListener(async () => {
      events.push('1 start');
      await sleep(15);
      events.push('1 end');
    });
    s.addWillCloseListener(() => void events.push('2'));
    s.addWillCloseListener(async () => {
      events.push('3 start');
      await sleep(5);
      events.push('3 end');
    });
    await s.close();
    await s.close();
    expect(events).toEqual(['1 start', '1 end', '2', '3 start', '3 end']);
  });

  it('the same function added twice runs once; removeWillCloseListener removes it', async () => {
    const { manager } = world();
    const s = await manager.createSession();
    let twice = 0;
    let removed = 0;
    const addedTwice = () => void twice++;
    const toRemove = () => void removed++;
    s.addWillCloseListener(addedTwice);
    s.addWillCloseListener(toRemove);
    s.addWillCloseListener(addedTwice);
    s.removeWillCloseListener(toRemove);
    s.removeWillCloseListener(() => {}); // unknown: no-op
    await s.close();
    expect([twice, removed]).toEqual([1, 0]);
  });

  it('a listener must be a function', async () => {
    const { manager } = world();
    await using s = await manager.createSession();
    expect(() => s.addWillCloseListener('nope' as never)).toThrow(TypeError);
  });

  it('a throwing (or rejecting) listener is reported as SOJOURN_LISTENER_FAILED and the others still run', async () => {
    const { manager } = world();
    const capture = captureWarnings('SOJOURN_LISTENER_FAILED');
    try {
      const s = await manager.createSession();
      const ran: string[] = [];
      s.addWillCloseListener(() => {
        ran.push('a');
        throw new Error('boom-sync');
      });
      s.addWillCloseListener(async () => {
        ran.push('b');
        throw new Error('boom-async');
      });
      s.addWillCloseListener(() => void ran.push('c'));
      await expect(s.close()).resolves.toBeUndefined();
      expect(ran).toEqual(['a', 'b', 'c']);
      expect(s.state).toBe('closed');
      await settle();
      expect(capture.warnings).toHaveLength(2);
      expect(capture.warnings[0]!.message).toContain('boom-sync');
      expect(capture.warnings[1]!.message).toContain('boom-async');
    } finally {
      capture.stop();
    }
  });

  it('listeners may still read and write the session while it closes', async () => {
    const { manager, store } = world();
    const s = await manager.createSession();
    await s.set('visits', 1);
    s.addWillCloseListener(async (session) => {
      const visits = session.get<number>('visits')!;
      await session.set('visits', visits + 1);
      session.log('flushed');
      session.addWillCloseListener(() => {}); // allowed while closing
    });
    await s.close();
    expect((await store.inner.get(s.id!))?.data).toEqual({ visits: 2 });
  });
});

describe('close()', () => {
  it('is idempotent and hands every caller the same promise', async () => {
    const { manager } = world();
    const s = await manager.createSession();
    let runs = 0;
    s.addWillCloseListener(async () => {
      runs++;
      await sleep(5);
    });
    const first = s.close();
    const second = s.close({ error: new Error('late') });
    const third = s[Symbol.asyncDispose]();
    expect(second).toBe(first);
    expect(third).toBe(first);
    await Promise.all([first, second, third]);
    expect(s.close()).toBe(first);
    expect(runs).toBe(1);
  });

  it('close({ error }) records the error in the session log', async () => {
    const logs: SessionLog[] = [];
    const { manager } = world({ logs: { sink: (log) => void logs.push(log) } });
    const s = await manager.createSession();
    const error = new Error('unit of work failed');
    await s.close({ error });
    expect(logs).toHaveLength(1);
    expect(logs[0]!.error).toBe(error);
  });

  it('the first close wins: a later close({ error }) does not change the recorded error', async () => {
    const logs: SessionLog[] = [];
    const { manager } = world({ logs: { sink: (log) => void logs.push(log), logAll: true } });
    const s = await manager.createSession();
    await s.close();
    await s.close({ error: new Error('too late') });
    expect(logs).toHaveLength(1);
    expect(logs[0]!.error).toBeUndefined();
  });

  it('signal aborts on close, not before', async () => {
    const { manager } = world();
    const s = await manager.createSession();
    const signal = s.signal;
    expect(signal).toBe(s.signal);
    let abortedDuringListeners: boolean | undefined;
    s.addWillCloseListener(() => void (abortedDuringListeners = signal.aborted));
    const onAbort: Event[] = [];
    signal.addEventListener('abort', (event) => onAbort.push(event));
    expect(signal.aborted).toBe(false);
    await s.close();
    expect(signal.aborted).toBe(true);
    expect(onAbort).toHaveLength(1);
    expect(abortedDuringListeners).toBe(false);
    expect((signal.reason as Error).name).toBe('AbortError');
  });

  it('`await using` closes the session at the end of the scope, also on a throw', async () => {
    const { manager } = world();
    let captured: Session | undefined;
    {
      await using s = await manager.createSession();
      captured = s;
      expect(manager.openSessions).toBe(1);
    }
    expect(captured.state).toBe('closed');
    const thrown = await (async () => {
      await using s = await manager.createSession();
      captured = s;
      throw new Error('inside');
    })().catch((e: unknown) => e);
    expect(thrown).toMatchObject({ message: 'inside' });
    expect(captured.state).toBe('closed');
    expect(manager.openSessions).toBe(0);
  });
});

describe('after close, every member but kind/state/isClosed/id throws SessionClosedError', () => {
  type Use = (s: Session) => unknown;
  const refused: [string, Use][] = [
    ['isAuthenticated', (s) => s.isAuthenticated],
    ['user', (s) => s.user],
    ['authenticationStrategy', (s) => s.authenticationStrategy],
    ['activeOrderId', (s) => s.activeOrderId],
    ['activeChannelId', (s) => s.activeChannelId],
    ['expiresAt', (s) => s.expiresAt],
    ['signal', (s) => s.signal],
    ['get', (s) => s.get('k')],
    ['set', (s) => s.set('k', 1)],
    ['unset', (s) => s.unset('k')],
    ['setActiveOrder', (s) => s.setActiveOrder('o')],
    ['unsetActiveOrder', (s) => s.unsetActiveOrder()],
    ['setActiveChannel', (s) => s.setActiveChannel('c')],
    ['ensure', (s) => s.ensure()],
    ['authenticate', (s) => s.authenticate({ id: 'u' }, 'password')],
    ['destroy', (s) => s.destroy()],
    ['addWillCloseListener', (s) => s.addWillCloseListener(() => {})],
    ['removeWillCloseListener', (s) => s.removeWillCloseListener(() => {})],
    ['log', (s) => s.log('late')],
    ['setLogOptions', (s) => s.setLogOptions({ logAll: true })],
    ['messages', (s) => s.messages],
  ];

  it('the table covers every public member of Session', () => {
    const allowed = ['constructor', 'kind', 'state', 'isClosed', 'id', 'close'];
    const members = Object.getOwnPropertyNames(Session.prototype);
    expect(members.filter((m) => !allowed.includes(m)).sort()).toEqual(refused.map(([name]) => name).sort());
  });

  it.each(refused)('%s', async (name, use) => {
    const { manager, store } = world();
    const { token } = await manager.createAnonymousSession();
    const s = await manager.createSession({ token });
    await s.close();
    const writesBefore = store.calls.create + store.calls.update + store.calls.delete;
    const result = await outcome(() => use(s));
    expect(result).toHaveProperty('threw');
    const error = (result as { threw: unknown }).threw;
    expect(error).toBeInstanceOf(SessionClosedError);
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    expect((error as Error).message).toContain(name);
    expect(store.calls.create + store.calls.update + store.calls.delete).toBe(writesBefore);
  });

  it('kind, state, isClosed and id still answer; close and asyncDispose resolve', async () => {
    const { manager } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    const s = await manager.createSession({ token, kind: 'task' });
    await s.close();
    expect(s.kind).toBe('task');
    expect(s.state).toBe('closed');
    expect(s.isClosed).toBe(true);
    expect(s.id).toBe(record.id);
    await expect(s.close()).resolves.toBeUndefined();
    await expect(s[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });

  it('a session captured in a timer that fires after close is refused', async () => {
    const { manager } = world();
    let late: Promise<unknown> | undefined;
    await manager.withSession((s) => {
      late = new Promise((resolve) => setTimeout(() => resolve(outcome(() => s.get('cart'))), 10));
    });
    expect(await late).toMatchObject({ threw: { code: 'ERR_SESSION_CLOSED' } });
  });
});
