import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import type { SessionManager, SessionUser } from 'sojourn';
import { csrfProtection, csrfToken, isCsrfError } from './csrf.js';
import { PAGE_HEADERS } from './html.js';
import { devicesPage, forbiddenPage, loginPage } from './pages.js';

/** Demo accounts; a real app looks the user up and verifies a password hash (e.g. `crypto.scrypt`). */
const USERS: readonly (SessionUser & { name: string; password: string })[] = [
  { id: 'ann', name: 'Ann', password: 'tea' },
  { id: 'bob', name: 'Bob', password: 'coffee' },
];

/**
 * The server-rendered account pages under `/account`: log in and out, and "Your devices" — each
 * live session of the user, with "Sign out" per other device and "Sign out everywhere else".
 * Every form is CSRF-protected.
 */
export function accountRoutes(manager: SessionManager): Router {
  const router = express.Router();
  router.use(pageHeaders, express.urlencoded({ extended: false }), csrfProtection);

  router.get('/login', async (req, res) => {
    if (req.session.isAuthenticated) return res.redirect(303, '/account/devices');
    res.send(loginPage({ csrfToken: await csrfToken(req) }));
  });

  router.post('/login', async (req, res) => {
    const { username, password } = req.body as { username?: unknown; password?: unknown };
    const found = USERS.find((user) => user.id === username && user.password === password);
    if (!found) {
      res.status(401).send(loginPage({ csrfToken: await csrfToken(req), error: 'Unknown user or wrong password.' }));
      return;
    }
    await req.session.authenticate({ id: found.id, name: found.name }, 'password');
    res.redirect(303, '/account/devices');
  });

  router.post('/logout', async (req, res) => {
    await req.session.destroy();
    res.redirect(303, '/account/login');
  });

  router.get('/devices', signedIn, async (req, res) => {
    const user = req.session.user!;
    res.send(devicesPage({
      userName: String(user.name ?? user.id),
      devices: await manager.listSessionsByUser(user.id),
      currentId: req.session.id,
      csrfToken: await csrfToken(req),
      now: Date.now(),
    }));
  });

  router.post('/devices/sign-out-others', signedIn, async (req, res) => {
    await manager.deleteSessionsByUser(req.session.user!.id, { except: req.session.id });
    res.redirect(303, '/account/devices');
  });

  // Only a session of the signed-in user: any other id is "not found", whoever it belongs to.
  router.post('/devices/:id/sign-out', signedIn, async (req, res) => {
    const devices = await manager.listSessionsByUser(req.session.user!.id);
    const device = devices.find(({ id }) => id === req.params.id);
    if (!device) return void res.sendStatus(404);
    await manager.deleteSession(device.id);
    res.redirect(303, '/account/devices');
  });

  router.use(csrfRefused);
  return router;
}

// ---------------------------------------------------------------------------------------

// First, so that error pages (a refused CSRF token) carry them too.
const pageHeaders: RequestHandler = (_req, res, next) => {
  res.set(PAGE_HEADERS);
  next();
};

const signedIn: RequestHandler = (req, res, next) => {
  if (req.session.isAuthenticated) next();
  else res.redirect(303, '/account/login');
};

/** A missing or forged CSRF token: 403 and a page that says nothing was changed. */
const csrfRefused: ErrorRequestHandler = (error, _req, res, next) => {
  if (!isCsrfError(error)) return next(error);
  res.status(403).send(forbiddenPage());
};
