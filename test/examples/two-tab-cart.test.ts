import { describe, expect, it } from 'vitest';
import { createCartApp } from '../../examples/two-tab-cart/cart.js';
import { connectEventStream, cookiePair, listen, setCookieOf } from '../helpers/http.js';

const SECRET = 'two-tab-secret-two-tab-secret-two-tab';

async function call(port: number, method: string, path: string, cookie: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown, setCookie: res.headers.get('set-cookie') ?? undefined };
}

describe('examples/two-tab-cart', () => {
  it('adding to the cart in one tab pushes an SSE event to the other tab, over real HTTP', async () => {
    const { app, manager } = createCartApp({ secret: SECRET });
    const server = await listen(app);
    try {
      const first = await call(server.port, 'GET', '/cart', '');
      const cookie = cookiePair(setCookieOf({ headers: { 'set-cookie': first.setCookie } })!);
      const tab1 = await connectEventStream(server.port, '/cart/events?tab=1', { cookie });
      const tab2 = await connectEventStream(server.port, '/cart/events?tab=2', { cookie });
      expect([tab1.response.statusCode, tab2.response.statusCode]).toEqual([200, 200]);

      expect((await call(server.port, 'POST', '/cart/items?tab=1', cookie, { sku: 'tea', quantity: 2 })).status).toBe(201);
      const [inTab2] = await tab2.received(1);
      expect(inTab2!.event).toBe('cart');
      expect(JSON.parse(inTab2!.data)).toEqual({ type: 'cart', from: '1', items: [{ sku: 'tea', quantity: 2 }] });

      await call(server.port, 'POST', '/cart/items?tab=2', cookie, { sku: 'cups' });
      const [inTab1] = await tab1.received(1);
      expect(JSON.parse(inTab1!.data).items).toEqual([{ sku: 'tea', quantity: 2 }, { sku: 'cups', quantity: 1 }]);
      expect([tab1.events.length, tab2.events.length]).toEqual([1, 1]); // no tab hears its own change

      // Revoking the session ends both tabs' streams, and their subscriptions go with them.
      const { id, items } = (await call(server.port, 'GET', '/cart', cookie)).body as { id: string; items: unknown[] };
      expect(items).toHaveLength(2);
      await manager.deleteSession(id);
      await Promise.all([tab1.ended, tab2.ended]);
      await expect.poll(() => manager.openSessions).toBe(0);
      expect(manager.messages.listenerCount).toBe(0);
    } finally {
      await server.close();
      await manager.close();
    }
  });

  it('a tab without a session is refused', async () => {
    const { app, manager } = createCartApp({ secret: SECRET });
    const server = await listen(app);
    try {
      expect((await call(server.port, 'GET', '/cart/events', '')).status).toBe(401);
      expect((await call(server.port, 'POST', '/cart/items', '', { sku: 3 })).status).toBe(400);
    } finally {
      await server.close();
      await manager.close();
    }
  });
});
