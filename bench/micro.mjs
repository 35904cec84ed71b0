// The middleware alone, without HTTP: `node bench/micro.mjs [dist...]`. Calls sojourn's Express
// middleware on a stand-in request/response (an EventEmitter with the cookie header), lets it
// load the session (warm LRU), reads one field, then ends the response ('finish' + 'close') —
// the per-request work of the session layer, in µs, with far less noise than an HTTP run.
// Several builds are measured in turns (A B A B …, 7 rounds) and each reports its median.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dists = process.argv.slice(2);
if (dists.length === 0) dists.push(fileURLToPath(new URL('../dist/', import.meta.url)));
const N = 200_000;
const ROUNDS = 7;

const builds = [];
for (const dist of dists) {
  const { sessionMiddleware } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const middleware = sessionMiddleware({ secret: 'micro-bench-secret', cookie: { secure: false } });
  const cookies = [];
  for (let i = 0; i < 100; i++) {
    const { token } = await middleware.manager.createAnonymousSession();
    const res = fakeResponse();
    const req = fakeRequest(undefined);
    await new Promise((resolve) => middleware(req, res, resolve));
    // Sign through the library's own path: a write on a fresh session sets the cookie.
    cookies.push(await signedCookie(middleware));
    void token;
  }
  const once = () =>
    new Promise((resolve, reject) => {
      let i = 0;
      const step = () => {
        for (let batch = 0; i < N; batch++) {
          // Let microtasks and closes settle between batches, as between HTTP requests.
          if (batch === 64) return void setImmediate(step);
          const req = fakeRequest(cookies[i++ % cookies.length]);
          const res = fakeResponse();
          let sync = true;
          let done = false;
          middleware(req, res, (error) => {
            if (error) return reject(error);
            if (req.session.activeOrderId !== 1) return reject(new Error('session not loaded'));
            res.writableEnded = res.writableFinished = true;
            res.emit('finish');
            res.emit('close');
            done = true;
            if (!sync) step();
          });
          sync = false;
          if (!done) return; // continues from the callback
        }
        resolve();
      };
      step();
    });
  await once(); // warm-up
  builds.push({ dist, middleware, once, micros: [] });
}
for (let round = 0; round < ROUNDS; round++) {
  for (const build of builds) {
    const started = process.hrtime.bigint();
    await build.once();
    build.micros.push(Number(process.hrtime.bigint() - started) / 1000 / N);
  }
}
for (const { dist, middleware, micros } of builds) {
  const sorted = micros.sort((a, b) => a - b);
  console.log(`${dist}: ${sorted[ROUNDS >> 1].toFixed(2)} µs per request, median of ${ROUNDS} (min ${sorted[0].toFixed(2)}; warm LRU hit, cookie, ${N.toLocaleString('en-US')} requests each)`);
  await middleware.manager.close();
}

function fakeRequest(cookie) {
  const req = new EventEmitter();
  req.headers = cookie ? { cookie } : {};
  req.method = 'GET';
  req.url = '/';
  return req;
}

function fakeResponse() {
  const res = new EventEmitter();
  const headers = new Map();
  res.headersSent = false;
  res.writableEnded = res.writableFinished = false;
  res.finished = false;
  res.socket = null;
  res.setHeader = (name, value) => headers.set(name.toLowerCase(), value);
  res.getHeader = (name) => headers.get(name.toLowerCase());
  return res;
}

async function signedCookie(middleware) {
  const req = fakeRequest(undefined);
  const res = fakeResponse();
  await new Promise((resolve) => middleware(req, res, resolve));
  await req.session.setActiveOrder(1);
  const header = [].concat(res.getHeader('set-cookie'))[0];
  res.writableEnded = res.writableFinished = true;
  res.emit('finish');
  res.emit('close');
  return header.split(';')[0];
}
