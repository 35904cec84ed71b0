import express, { type Express } from 'express';
import { accountRoutes } from './account.js';
import { captureSessionErrors, createSessionManager, eventStream, sessionMiddleware, type SessionManager, type SessionOptions } from 'sojourn';

interface Order {
  id: number;
  userId?: string;
  items: { sku: string; quantity: number }[];
}

/**
 * A tiny shop on the embedded defaults (memory store, LRU cache): add to cart (sets the active
 * order), log in (a new token; the guest cart is merged into the customer's), log out, show the
 * session; and the account pages (`/account/login`, `/account/devices`: see account.ts).
 */
export function createShop(options: SessionOptions = {}): { app: Express; manager: SessionManager } {
  const orders = new Map<number, Order>();
  const openOrderOfUser = new Map<string, number>();
  let nextOrderId = 1;

  const manager = createSessionManager({
    secret: process.env.SESSION_SECRET,
    ...options,
    // At login: merge the guest's cart into the customer's open order, or adopt the guest's.
    mergeActiveOrder({ guestOrderId, user }) {
      const userId = String(user.id);
      const guest = guestOrderId === undefined ? undefined : orders.get(Number(guestOrderId));
      const ownId = openOrderOfUser.get(userId);
      if (ownId === undefined) {
        if (!guest) return undefined;
        guest.userId = userId;
        openOrderOfUser.set(userId, guest.id);
        return guest.id;
      }
      if (guest && guest.id !== ownId) {
        orders.get(ownId)!.items.push(...guest.items);
        orders.delete(guest.id);
      }
      return ownId;
    },
    // A login starts with a fresh CSRF token: the guest's is not carried into the customer's session.
    mergeGuestData: ({ guestData: { csrfToken: _guestToken, ...data } }) => data,
  });

  const app = express();
  app.use(express.json());
  app.use(sessionMiddleware({ manager }));

  app.get('/session', (req, res) => {
    const { id, isAuthenticated, user, activeOrderId } = req.session;
    const cart = activeOrderId === undefined ? [] : (orders.get(Number(activeOrderId))?.items ?? []);
    res.json({ id: id ?? null, isAuthenticated, user: user ?? null, activeOrderId: activeOrderId ?? null, cart });
  });

  app.post('/cart/items', async (req, res) => {
    const { sku, quantity = 1 } = (req.body ?? {}) as { sku?: unknown; quantity?: unknown };
    if (typeof sku !== 'string' || !Number.isInteger(quantity) || (quantity as number) < 1) {
      res.status(400).json({ error: 'expected { sku: string, quantity?: positive integer }' });
      return;
    }
    let order = orders.get(Number(req.session.activeOrderId));
    if (!order) {
      order = { id: nextOrderId++, userId: req.session.user?.id as string | undefined, items: [] };
      orders.set(order.id, order);
      if (order.userId) openOrderOfUser.set(order.userId, order.id);
      await req.session.setActiveOrder(order);
    }
    order.items.push({ sku, quantity: quantity as number });
    res.status(201).json({ activeOrderId: order.id, cart: order.items });
  });

  app.post('/login', async (req, res) => {
    const { username } = (req.body ?? {}) as { username?: unknown };
    if (typeof username !== 'string' || username.length === 0) {
      res.status(400).json({ error: 'expected { username: string }' });
      return;
    }
    await req.session.authenticate({ id: username, name: username }, 'password');
    res.json({ id: req.session.id, activeOrderId: req.session.activeOrderId ?? null });
  });

  // Server-Sent Events: the session stays open (a 'stream' session) until the client goes away or logs out.
  app.get('/events', (req, res) => {
    const stream = eventStream(req, res);
    stream.send({ user: req.session.user?.id ?? null, activeOrderId: req.session.activeOrderId ?? null }, { event: 'session' });
  });

  app.post('/logout', async (req, res) => {
    await req.session.destroy();
    res.status(204).end();
  });

  app.use('/account', accountRoutes(manager));

  app.use(captureSessionErrors());
  return { app, manager };
}
