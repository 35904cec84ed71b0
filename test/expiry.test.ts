/**
 * How long a session lives without use, by what it is: a login without "remember me" (a
 * browser-session cookie and `shortDuration`), a guest with no active order (`anonymousDuration`,
 * counted from the last use), everything else (`duration`). Driven over HTTP with an injected clock.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionMiddleware, type SessionManager, type SessionOptions } from '../lib/index.js';
import { cookieAttributes, cookiePair, setCookieOf } from './helpers/http.js';
import { TEST_SECRET } from './helpers/records.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2030, 0, 1);
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function shop(options: SessionOptions = {}) {
  let now = T0;
  const middleware = sessionMiddleware({ secret: TEST_SECRET, clock: () => now, cleanupInterval: false, ...options });
  managers.push(middleware.manager);
  const app = express();
  app.use(middleware);
  app.post('/login', async (req, res) => {
    await req.session.authenticate({ id: 'ann' }, 'password', { rememberMe: req.query.remember !== 'no' });
    res.end();
  });
  app.post('/visit', async (req, res) => {
    await req.session.set('seen', true);
    res.end();
  });
  app.post('/cart', async (req, res) => {
    await req.session.setActiveOrder('o1');
    res.end();
  });
  app.get('/me', (req, res) => res.json({ id: req.session.id ?? null, user: req.session.user ?? null }));
  return { app, advance: (ms: number) => void (now += ms), manager: middleware.manager };
}

describe('remember me', () => {
  it('rememberMe: false gives a browser-session cookie and ends after shortDuration without use', async () => {
    const { app, advance } = shop({ shortDuration: '1d' });
    const login = await request(app).post('/login?remember=no').expect(200);
    const line = setCookieOf(login)!;
    expect(cookieAttributes(line)).not.toHaveProperty('max-age');
    expect(cookieAttributes(line)).not.toHaveProperty('expires');
    const cookie = cookiePair(line);
    advance(DAY / 2 + 1); // used within the day: renewed (and still no Max-Age)
    const used = await request(app).get('/me').set('Cookie', cookie).expect(200);
    expect(used.body.user).toEqual({ id: 'ann' });
    expect(cookieAttributes(setCookieOf(used)!)).not.toHaveProperty('max-age');
    advance(DAY); // a day without use
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body.user).toBeNull();
  });

  it('rememberMe: true (the default) keeps today’s cookie: Max-Age of the full duration', async () => {
    const { app, advance } = shop({ shortDuration: '1d' });
    const login = await request(app).post('/login').expect(200);
    expect(cookieAttributes(setCookieOf(login)!)['max-age']).toBe(String(30 * 86_400));
    advance(10 * DAY);
    expect((await request(app).get('/me').set('Cookie', cookiePair(setCookieOf(login)!)).expect(200)).body.user).toEqual({ id: 'ann' });
  });
});

describe('guests expire sooner', () => {
  it('a guest with no active order is gone after anonymousDuration without use', async () => {
    const { app, advance } = shop({ anonymousDuration: '7d' });
    const guest = await request(app).post('/visit').expect(200);
    expect(cookieAttributes(setCookieOf(guest)!)['max-age']).toBe(String(7 * 86_400));
    advance(7 * DAY);
    expect((await request(app).get('/me').set('Cookie', cookiePair(setCookieOf(guest)!)).expect(200)).body.id).toBeNull();
  });

  it('a guest with an active order lives the full duration, and gets the longer cookie when the order comes', async () => {
    const { app, advance } = shop({ anonymousDuration: '7d' });
    const guest = await request(app).post('/visit').expect(200);
    const cookie = cookiePair(setCookieOf(guest)!);
    const cart = await request(app).post('/cart').set('Cookie', cookie).expect(200);
    expect(cookieAttributes(setCookieOf(cart)!)['max-age']).toBe(String(30 * 86_400));
    advance(20 * DAY);
    expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body.id).not.toBeNull();
  });

  it('a guest who keeps using the site is not (measured from the last use, not the last write)', async () => {
    const { app, advance } = shop({ anonymousDuration: '7d' });
    const guest = await request(app).post('/visit').expect(200);
    const cookie = cookiePair(setCookieOf(guest)!);
    for (let day = 0; day < 30; day += 3) {
      advance(3 * DAY);
      expect((await request(app).get('/me').set('Cookie', cookie).expect(200)).body.id).not.toBeNull();
    }
  });

  it('never outlasts duration: shorter lifetimes are capped by it', async () => {
    const { app, advance } = shop({ duration: '1h', absoluteDuration: '1d' });
    const guest = await request(app).post('/visit').expect(200);
    expect(cookieAttributes(setCookieOf(guest)!)['max-age']).toBe('3600');
    advance(3_600_000);
    expect((await request(app).get('/me').set('Cookie', cookiePair(setCookieOf(guest)!)).expect(200)).body.id).toBeNull();
  });
});
