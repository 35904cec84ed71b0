import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, SessionClosedError, sessionMiddleware, type Session, type SessionManager } from '../../lib/index.js';
import { eventually } from '../helpers/redis.js';

/**
 * The closed-session pitfall, end to end on a real Express app: work started by a request that
 * must happen after the response. Captured in a timer, `req.session` is closed by then; moved to
 * a future call, the work runs in a task session bound to the same record.
 */
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

async function shop() {
  const manager = createSessionManager({ secret: 'shop', cleanupInterval: false, futureCalls: { pollInterval: 10 } });
  managers.push(manager);
  await manager.start();
  const timerErrors: unknown[] = [];
  const receipts: { kind: string; user: unknown; order: unknown }[] = [];
  manager.futureCalls.register('send-receipt', async (session: Session, { orderId }: { orderId: string }) => {
    receipts.push({ kind: session.kind, user: session.user, order: session.activeOrderId });
    await session.set('receiptSent', orderId);
  });

  const app = express();
  app.use(sessionMiddleware({ manager }));
  app.post('/login', async (req, res) => {
    await req.session.authenticate({ id: 7, email: 'ada@example.com' }, 'password');
    await req.session.setActiveOrder('ord_1');
    res.sendStatus(204);
  });
  // The anti-pattern: the timer fires after the response, when req.session is closed.
  app.post('/checkout-timer', (req, res) => {
    setTimeout(async () => {
      try {
        await req.session.set('receiptSent', req.session.activeOrderId);
      } catch (error) {
        timerErrors.push(error); // uncaught, this would crash the process
      }
    }, 20);
    res.sendStatus(202);
  });
  // The same route with a future call: durable, and run in its own task session on the same record.
  app.post('/checkout', async (req, res) => {
    await manager.futureCalls.callWithDelay('send-receipt', { orderId: String(req.session.activeOrderId) }, 20, { session: req.session });
    res.sendStatus(202);
  });
  app.get('/me', (req, res) => {
    res.json({ receiptSent: req.session.get('receiptSent') ?? null });
  });
  return { manager, agent: request.agent(app), timerErrors, receipts };
}

describe('work after the response', () => {
  it('a timer that captured req.session gets SessionClosedError', async () => {
    const { agent, timerErrors } = await shop();
    await agent.post('/login').expect(204);
    await agent.post('/checkout-timer').expect(202);
    await eventually(() => timerErrors.length === 1, 2_000, 'the timer');
    expect(timerErrors[0]).toBeInstanceOf(SessionClosedError);
    expect(timerErrors[0]).toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    expect((timerErrors[0] as Error).message).toContain('session.activeOrderId used after the request session closed');
    expect((await agent.get('/me')).body).toEqual({ receiptSent: null });
  });

  it('the same route with callWithDelay does its work in a task session that sees the user and the order', async () => {
    const { agent, receipts, manager } = await shop();
    await agent.post('/login').expect(204);
    await agent.post('/checkout').expect(202);
    await eventually(() => receipts.length === 1, 2_000, 'the future call');
    expect(receipts[0]).toEqual({ kind: 'task', user: { id: 7, email: 'ada@example.com' }, order: 'ord_1' });
    await eventually(() => manager.futureCalls.running === 0, 2_000, 'the call to finish');
    expect((await agent.get('/me')).body).toEqual({ receiptSent: 'ord_1' });
    expect(manager.openSessions).toBe(0);
  });
});
