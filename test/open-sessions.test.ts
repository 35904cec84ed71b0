import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { SessionStoreError, type Session } from 'sojourn';
import { world } from './helpers/counting.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = `${ROOT}dist/index.js`;
const LEAK_SCRIPT = fileURLToPath(new URL('./fixtures/session-leak.mjs', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('openSessions', () => {
  it('counts open sessions and returns to 0 as they close', async () => {
    const { manager } = world();
    expect(manager.openSessions).toBe(0);
    const a = await manager.createSession();
    const b = await manager.createSession({ kind: 'task' });
    expect(manager.openSessions).toBe(2);
    a.addWillCloseListener(() => sleep(5));
    const closing = a.close();
    expect(a.state).toBe('closing');
    expect(manager.openSessions).toBe(2); // still closing: still counted
    await closing;
    expect(manager.openSessions).toBe(1);
    await a.close();
    expect(manager.openSessions).toBe(1);
    await b.close();
    expect(manager.openSessions).toBe(0);
  });

  it('counts sessions opened by withSession only while fn runs', async () => {
    const { manager } = world();
    let bothStarted!: () => void;
    const barrier = new Promise<void>((resolve) => (bothStarted = resolve));
    let started = 0;
    const work = () =>
      manager.withSession(async () => {
        if (++started === 2) bothStarted();
        await barrier;
        return manager.openSessions;
      });
    await expect(Promise.all([work(), work()])).resolves.toEqual([2, 2]);
    expect(manager.openSessions).toBe(0);
  });

  it('a createSession whose token lookup fails (store down) throws SessionStoreError and leaves nothing open', async () => {
    const { manager, store } = world();
    const { token } = await manager.createAnonymousSession();
    await manager.clearCache();
    store.before = () => {
      throw new Error('ECONNRESET');
    };
    await expect(manager.createSession({ token })).rejects.toBeInstanceOf(SessionStoreError);
    await expect(manager.withSession(() => 'never', { token })).rejects.toBeInstanceOf(SessionStoreError);
    expect(manager.openSessions).toBe(0);
  });
});

describe('withSession', () => {
  it("returns fn's value and closes the session", async () => {
    const { manager } = world();
    let captured: Session | undefined;
    const value = await manager.withSession(async (s) => {
      captured = s;
      expect(s.state).toBe('open');
      expect(s.kind).toBe('internal');
      return { answer: 42 };
    });
    expect(value).toEqual({ answer: 42 });
    expect(captured?.state).toBe('closed');
  });

  it('closes with the error and rethrows it (sync and async throws)', async () => {
    const errors: unknown[] = [];
    const { manager } = world({ logs: { sink: (log) => void errors.push(log.error) } });
    const syncError = new Error('sync');
    const asyncError = new Error('async');
    let captured: Session | undefined;
    await expect(
      manager.withSession((s) => {
        captured = s;
        throw syncError;
      }),
    ).rejects.toBe(syncError);
    expect(captured?.isClosed).toBe(true);
    await expect(manager.withSession(async () => Promise.reject(asyncError))).rejects.toBe(asyncError);
    expect(errors).toEqual([syncError, asyncError]);
    expect(manager.openSessions).toBe(0);
  });

  it('runs will-close listeners before returning', async () => {
    const { manager } = world();
    const events: string[] = [];
    await manager.withSession((s) => {
      s.addWillCloseListener(async () => {
        await sleep(5);
        events.push('listener');
      });
      events.push('fn');
    });
    events.push('returned');
    expect(events).toEqual(['fn', 'listener', 'returned']);
  });

  it('with a token, fn sees the record and its writes land on it', async () => {
    const { manager } = world();
    const { token, session: record } = await manager.createAnonymousSession();
    const id = await manager.withSession(async (s) => {
      await s.set('k', 'v');
      return s.id;
    }, { token });
    expect(id).toBe(record.id);
    expect((await manager.getSessionFromToken(token))?.data).toEqual({ k: 'v' });
  });
});

describe('leak detection (child process, built package, --expose-gc)', () => {
  beforeAll(async () => {
    // dist may be rebuilt by someone else right now (tsup cleans it first): wait, then build if still missing
    for (let i = 0; i < 40 && !existsSync(DIST); i++) await sleep(250);
    if (!existsSync(DIST)) spawnSync('npx', ['tsup'], { cwd: ROOT, stdio: 'ignore' });
  }, 60_000);

  const run = (env: NodeJS.ProcessEnv) => {
    const child = spawnSync(process.execPath, ['--expose-gc', LEAK_SCRIPT, DIST], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { ...process.env, ...env },
    });
    expect(child.status, child.stderr).toBe(0);
    const lastLine = child.stdout.trim().split('\n').at(-1)!;
    return JSON.parse(lastLine) as { openBeforeGc: number; openAfterGc: number; warnings: { code: string; message: string }[] };
  };

  it('in development, an internal session garbage-collected unclosed warns SOJOURN_SESSION_LEAK naming where it was created', () => {
    const result = run({ NODE_ENV: 'development' });
    expect(result.openBeforeGc).toBe(1); // the properly closed one is not counted
    expect(result.warnings).toHaveLength(1); // only the forgotten one
    expect(result.warnings[0]!.message).toContain('forgottenInAJob');
    expect(result.warnings[0]!.message).toContain('session-leak.mjs');
    expect(result.warnings[0]!.message).not.toContain('closedProperly');
    expect(result.openAfterGc).toBe(0);
  });

  it('in production, no leak warning (the gauge still recovers)', () => {
    const result = run({ NODE_ENV: 'production' });
    expect(result.warnings).toEqual([]);
    expect(result.openAfterGc).toBe(0);
  });
});
