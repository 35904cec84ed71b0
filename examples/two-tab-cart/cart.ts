import express from 'express';
import { createSessionManager, eventStream, sessionMiddleware, type SessionOptions, topics } from 'sojourn';

/**
 * Two tabs of one browser share the session cookie, so they share the session record. A tab that
 * adds to the cart posts on `session:<id>`; every other tab of that session is streaming that
 * topic over SSE and hears it at once. Each tab says who it is (`?tab=`), so it does not echo
 * its own change back to itself.
 */
export interface CartItem {
  sku: string;
  quantity: number;
}

export interface CartEvent {
  type: 'cart';
  from: string;
  items: CartItem[];
}

export function createCartApp(options: SessionOptions = {}) {
  const manager = createSessionManager({ secret: process.env.SESSION_SECRET, cleanupInterval: false, ...options });
  const app = express();
  app.use(express.json());
  app.use(sessionMiddleware({ manager }));

  app.get('/cart', async (req, res) => {
    await req.session.ensure(); // both tabs need the same record (and cookie) before they stream
    res.json({ id: req.session.id, items: req.session.get<CartItem[]>('cart') ?? [] });
  });

  app.post('/cart/items', async (req, res) => {
    const { sku, quantity = 1 } = req.body ?? {};
    if (typeof sku !== 'string' || !Number.isInteger(quantity) || quantity < 1) return void res.status(400).json({ error: 'sku and quantity' });
    const items = [...(req.session.get<CartItem[]>('cart') ?? []), { sku, quantity }];
    await req.session.set('cart', items);
    const event: CartEvent = { type: 'cart', from: String(req.query.tab ?? ''), items };
    await req.session.messages.publish(topics.session(req.session.id!), event);
    res.status(201).json({ items });
  });

  app.get('/cart/events', async (req, res) => {
    if (req.session.id === undefined) return void res.status(401).json({ error: 'GET /cart first' });
    const tab = String(req.query.tab ?? '');
    const updates = req.session.messages.stream<CartEvent | { type: 'revoked' }>(topics.session(req.session.id));
    const stream = eventStream(req, res);
    // Ends when the tab goes away or the session is revoked: the session closes, so does `updates`.
    for await (const update of updates) {
      if (update.type === 'cart' && update.from !== tab) stream.send(update, { event: 'cart' });
    }
  });

  return { app, manager };
}
