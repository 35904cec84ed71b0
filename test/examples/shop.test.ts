import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createShop } from '../../examples/shop/shop.js';
import { freePort } from '../services/index.mjs';

describe('examples/shop', () => {
  it('keeps a guest cart through login, merges it into the customer order, and forgets it on logout', async () => {
    const { app, manager } = createShop({ secret: 'shop-test-secret-shop-test-secret' });
    const guest = request.agent(app);
    expect((await guest.get('/session')).body).toMatchObject({ id: null, isAuthenticated: false, cart: [] });
    expect(manager.openSessions).toBe(0);

    const added = await guest.post('/cart/items').send({ sku: 'tea', quantity: 2 }).expect(201);
    const guestSession = (await guest.get('/session')).body as { id: string; activeOrderId: number };
    expect(guestSession.activeOrderId).toBe(added.body.activeOrderId);

    // The customer already has an order from another device: the guest cart merges into it.
    const phone = request.agent(app);
    await phone.post('/login').send({ username: 'ann' }).expect(200);
    await phone.post('/cart/items').send({ sku: 'cups' }).expect(201);

    const login = await guest.post('/login').send({ username: 'ann' }).expect(200);
    expect(login.body.id).not.toBe(guestSession.id); // a new token and record at login
    const customer = (await guest.get('/session')).body;
    expect(customer).toMatchObject({ isAuthenticated: true, user: { id: 'ann' } });
    expect(customer.cart).toEqual([{ sku: 'cups', quantity: 1 }, { sku: 'tea', quantity: 2 }]);
    expect(await manager.listSessionsByUser('ann')).toHaveLength(2);

    await guest.post('/logout').expect(204);
    expect((await guest.get('/session')).body).toMatchObject({ id: null, isAuthenticated: false });
    expect(await manager.listSessionsByUser('ann')).toHaveLength(1);
    expect(manager.openSessions).toBe(0);
  });

  it('rejects bad input with 400, not 500', async () => {
    const { app } = createShop({ secret: 'shop-test-secret-shop-test-secret' });
    await request(app).post('/cart/items').send({ sku: 3 }).expect(400);
    await request(app).post('/login').send({}).expect(400);
  });

  it('starts with `npm start` and serves the flow over real HTTP', async () => {
    const port = await freePort();
    const root = resolve(import.meta.dirname, '../..');
    const server = spawn('npm', ['start'], { cwd: root, env: { ...process.env, PORT: String(port) }, stdio: 'pipe', detached: true });
    try {
      await new Promise<void>((ready, fail) => {
        server.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('example shop on') && ready());
        server.on('exit', (code) => fail(new Error(`npm start exited with ${code}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const added = await fetch(`${base}/cart/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"tea"}' });
      const cookie = added.headers.get('set-cookie')!.split(';')[0]!;
      expect(cookie).toMatch(/^session=[0-9a-f-]{36}\./);
      const shown = (await (await fetch(`${base}/session`, { headers: { cookie } })).json()) as { cart: unknown[] };
      expect(shown.cart).toEqual([{ sku: 'tea', quantity: 1 }]);
    } finally {
      process.kill(-server.pid!, 'SIGTERM');
    }
  }, 30_000);
});
