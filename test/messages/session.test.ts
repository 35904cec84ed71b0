import { describe, expect, it } from 'vitest';
import { createSessionManager, SessionClosedError, SessionConfigError, topics } from 'sojourn';
import { outcome } from '../helpers/counting.js';
import { captureWarnings, settled } from '../helpers/warnings.js';
import { TEST_SECRET } from '../helpers/records.js';

const make = (options = {}) => createSessionManager({ secret: TEST_SECRET, tokenMethod: 'bearer', cleanupInterval: false, ...options });

describe('session.messages (in-process fleet)', () => {
  it('subscribe hears posts from another session as JSON copies; the unsubscribe stops it', async () => {
    const manager = make();
    await using a = await manager.createSession();
    await using b = await manager.createSession();
    const heard: unknown[] = [];
    const off = a.messages.subscribe('cart:1', (message, topic) => heard.push([message, topic]));
    await off.ready;
    const message = { sku: 'tea', qty: 2 };
    await b.messages.publish('cart:1', message);
    await b.messages.publish('cart:2', { other: true });
    expect(heard).toEqual([[message, 'cart:1']]);
    expect((heard[0] as unknown[])[0]).not.toBe(message);
    off();
    off(); // idempotent
    await b.messages.publish('cart:1', { late: true });
    expect(heard).toHaveLength(1);
    expect(manager.messages.listenerCount).toBe(0);
  });

  it('closing the session removes every subscription and ends its streams; unsubscribe after close is a no-op', async () => {
    const manager = make();
    const s = await manager.createSession();
    const off = s.messages.subscribe('x', () => {});
    s.messages.subscribe('x', () => {});
    const stream = s.messages.stream('y');
    expect(manager.messages.listenerCount).toBe(3);
    const pending = stream.next();
    await s.close();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(manager.messages.listenerCount).toBe(0);
    expect(manager.messages.topicCount).toBe(0);
    off();
    await stream.return();
    expect(manager.messages.listenerCount).toBe(0);
  });

  it('stream() yields posts in order and stops listening on break', async () => {
    const manager = make();
    await using s = await manager.createSession();
    const stream = s.messages.stream<{ n: number }>('ticks');
    for (let n = 1; n <= 3; n++) await manager.messages.publish('ticks', { n });
    const seen: number[] = [];
    for await (const { n } of stream) {
      seen.push(n);
      if (n === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(manager.messages.listenerCount).toBe(0);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('a slow consumer gets a bounded buffer: the oldest are dropped and counted', async () => {
    const manager = make({ messages: { buffer: 5 } });
    await using s = await manager.createSession();
    const stream = s.messages.stream<number>('fast');
    const small = s.messages.stream<number>('fast', { buffer: 2 });
    for (let n = 0; n < 12; n++) await manager.messages.publish('fast', n);
    expect([stream.dropped, stream.buffered, small.dropped]).toEqual([7, 5, 10]);
    const got: number[] = [];
    for (let i = 0; i < 5; i++) got.push((await stream.next()).value as number);
    expect(got).toEqual([7, 8, 9, 10, 11]);
    expect((await small.next()).value).toBe(10);
    expect(() => s.messages.stream('fast', { buffer: 0 })).toThrow(TypeError);
  });

  it('messages buffered when the session closes are still read, then the stream ends', async () => {
    const manager = make();
    const s = await manager.createSession();
    const stream = s.messages.stream('c');
    await manager.messages.publish('c', 'last');
    await s.close();
    expect(await stream.next()).toEqual({ done: false, value: 'last' });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('an abandoned iterator (never returned) is cleaned when the session closes', async () => {
    const manager = make();
    const s = await manager.createSession();
    let stream: AsyncIterator<unknown> | undefined = s.messages.stream('abandoned');
    void stream.next();
    stream = undefined;
    expect(manager.messages.listenerCount).toBe(1);
    await s.close();
    expect(manager.messages.listenerCount).toBe(0);
  });

  it('post refuses what JSON cannot carry with a TypeError, and bad channels too', async () => {
    const manager = make();
    await using s = await manager.createSession();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [undefined, () => 1, Symbol('x'), 10n, cyclic]) {
      expect(() => s.messages.publish('c', bad)).toThrow(/messages\.publish needs a JSON-serialisable message/);
    }
    expect(() => s.messages.publish('', 1)).toThrow(TypeError);
    expect(() => s.messages.subscribe('c', 'nope' as never)).toThrow(TypeError);
    expect(manager.messages.listenerCount).toBe(0);
  });

  it('after close, messages and a kept messages object refuse use with SessionClosedError', async () => {
    const manager = make();
    const s = await manager.createSession();
    const messages = s.messages;
    await s.close();
    for (const use of [() => s.messages, () => messages.publish('c', 1), () => messages.subscribe('c', () => {}), () => messages.stream('c')]) {
      const result = await outcome(use);
      expect((result as { threw: unknown }).threw).toBeInstanceOf(SessionClosedError);
    }
    expect(manager.messages.listenerCount).toBe(0);
  });

  it('a listener that throws is reported; the others still hear the message', async () => {
    const manager = make();
    await using s = await manager.createSession();
    const warnings = captureWarnings();
    const heard: unknown[] = [];
    s.messages.subscribe('c', () => {
      throw new Error('boom');
    });
    s.messages.subscribe('c', (m) => heard.push(m));
    await manager.messages.publish('c', 1);
    await settled();
    expect(heard).toEqual([1]);
    expect(warnings.codes).toContain('SOJOURN_MESSAGE_LISTENER');
  });

  it('revocation publishes { type: "revoked" } on the session topic and the user topic', async () => {
    const manager = make();
    await using watcher = await manager.createSession();
    const { session: ann1 } = await manager.createNewAuthenticatedSession({ id: 'ann' }, 'pw');
    const { session: ann2 } = await manager.createNewAuthenticatedSession({ id: 'ann' }, 'pw');
    const heard: unknown[] = [];
    watcher.messages.subscribe(topics.session(ann1.id), (m, c) => heard.push([c, m]));
    watcher.messages.subscribe(topics.user('ann'), (m, c) => heard.push([c, m]));
    const ids = await manager.deleteSessionsByUser('ann');
    expect(heard).toContainEqual([`session:${ann1.id}`, { type: 'revoked' }]);
    expect(heard).toContainEqual(['user:ann', { type: 'revoked', sessionIds: ids }]);
    expect(ids.sort()).toEqual([ann1.id, ann2.id].sort());
    expect(topics.session('abc')).toBe('session:abc');
    expect(topics.user(7)).toBe('user:7');
  });

  it('10,000 sessions that subscribe and close leave no listener behind', async () => {
    const manager = make();
    for (let i = 0; i < 10_000; i++) {
      const s = await manager.createSession();
      s.messages.subscribe(`c:${i % 100}`, () => {});
      const stream = s.messages.stream('shared');
      if (i % 2 === 0) void stream.next();
      if (i % 3 === 0) await stream.return();
      await s.close();
    }
    expect(manager.messages.listenerCount).toBe(0);
    expect(manager.messages.topicCount).toBe(0);
    expect(manager.openSessions).toBe(0);
  });

  it('the messages option is validated', () => {
    expect(() => make({ messages: { bus: {} } })).toThrow(SessionConfigError);
    expect(() => make({ messages: { bus: {} } })).toThrow(/messages\.bus/);
    expect(() => make({ messages: { buffer: 0 } })).toThrow(/messages\.buffer/);
    expect(() => make({ messages: { buffer: 10 } })).not.toThrow();
  });
});
