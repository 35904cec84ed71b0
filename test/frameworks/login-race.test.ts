/**
 * The login race (express-session #923's class): a page fires a request with the guest cookie just
 * before the login answer arrives, and it is answered after the login. Its answer must not clear or
 * replace the browser's new cookie, and it must see no user data; after `supersededGrace` the guest
 * token is junk like any unknown one.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionMiddleware, type SessionManager } from '../../lib/index.js';
import { cookieAttributes, cookiePair, setCookieOf } from '../helpers/http.js';
import { TEST_SECRET } from '../helpers/records.js';
import { report, size } from '../reliability/figures.js';

const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

function shop() {
  let now = Date.UTC(2030, 0, 1);
  const middleware = sessionMiddleware({ secret: TEST_SECRET, clock: () => now, supersededGrace: '10s', cleanupInterval: false });
  managers.push(middleware.manager);
  const app = express();
  app.use(middleware);
  app.post('/cart/:sku', async (req, res) => {
    const written = await req.session.set('cart', [req.params.sku]);
    res.json({ written, user: req.session.user ?? null });
  });
  app.get('/me', (req, res) => res.json({ user: req.session.user ?? null, cart: req.session.get('cart') ?? null }));
  app.post('/login', async (req, res) => {
    await req.session.authenticate({ id: 'ann', email: 'ann@example.com' }, 'password');
    res.json({ user: req.session.user });
  });
  return { app, advance: (ms: number) => void (now += ms) };
}

describe('the login race', () => {
  it(`${size(200, 1_000)} tries of a guest request in flight while logging in, served before and after the login`, async () => {
    const { app, advance } = shop();
    const tries = size(200, 1_000);
    const figures = { tries, guestAnswersThatTouchedTheCookie: 0, guestAnswersWithUserData: 0, loginsWithoutCookie: 0, stillRefusedAfterWindow: 0 };
    for (let i = 0; i < tries; i++) {
      const guest = await request(app).post(`/cart/sku-${i}`).expect(200);
      const guestCookie = cookiePair(setCookieOf(guest)!);
      const late = () => (i % 2 === 0 ? request(app).get('/me') : request(app).post(`/cart/late-${i}`)).set('Cookie', guestCookie);
      const login = () => request(app).post('/login').set('Cookie', guestCookie);
      // Even tries: the guest request is answered after the login; odd tries: both at once.
      const [loggedIn, answered] = i % 4 < 2 ? await sequence(login, late) : await Promise.all([login(), late()]);
      if (!setCookieOf(loggedIn)) figures.loginsWithoutCookie++;
      if (setCookieOf(answered) !== undefined || answered.headers['session-token'] !== undefined) figures.guestAnswersThatTouchedTheCookie++;
      if (answered.body.user !== null) figures.guestAnswersWithUserData++;
      advance(10_000); // the grace window is over: the guest token is junk, and cleared
      const after = await request(app).get('/me').set('Cookie', guestCookie).expect(200);
      if (after.body.user !== null || cookieAttributes(setCookieOf(after) ?? 'x=;')['max-age'] !== '0') figures.stillRefusedAfterWindow++;
    }
    report('login race', figures);
    expect(figures).toEqual({ tries, guestAnswersThatTouchedTheCookie: 0, guestAnswersWithUserData: 0, loginsWithoutCookie: 0, stillRefusedAfterWindow: 0 });
  }, 60_000);
});

async function sequence<A, B>(first: () => PromiseLike<A>, second: () => PromiseLike<B>): Promise<[A, B]> {
  const a = await first();
  return [a, await second()];
}
