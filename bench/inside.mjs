// The middleware's own time inside a loaded Express server: `node bench/inside.mjs [dist...]`.
// bench/micro.mjs calls the middleware on stand-ins with hot CPU caches; in a real server every
// request runs all of Node's HTTP code and Express's in between, and touching an Express
// request or response costs microseconds (their hidden classes differ per request). This runs a
// real Express 5 server per build in this process, loads it with autocannon (50 connections,
// 100 session cookies, 1 s warm-up + 3 s), and times the synchronous part of sojourn's
// middleware around each call (warm LRU hit: everything a request costs before the route runs,
// `req.session = …` included). Builds take turns for 6 rounds, each round starting with the next
// build; each reports its median.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import express from 'express';

const dists = process.argv.slice(2);
if (dists.length === 0) dists.push(fileURLToPath(new URL('../dist/', import.meta.url)));
const ROUNDS = 6;

const builds = [];
for (const dist of dists) {
  const { sessionMiddleware } = await import(pathToFileURL(join(dist, 'index.js')).href);
  builds.push({ dist, sessionMiddleware, micros: [] });
}
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts with the next build: whichever runs first in a round measured up to 40 % slower.
  const shift = round % builds.length;
  for (const build of [...builds.slice(shift), ...builds.slice(0, shift)]) build.micros.push(await measure(build.sessionMiddleware));
}
for (const { dist, micros } of builds) {
  const sorted = micros.sort((a, b) => a - b);
  console.log(`${dist}: ${sorted[ROUNDS >> 1].toFixed(2)} µs per request in the middleware, median of ${ROUNDS} (min ${sorted[0].toFixed(2)}, max ${sorted.at(-1).toFixed(2)})`);
}

async function measure(sessionMiddleware) {
  const middleware = sessionMiddleware({ secret: 'inside-bench-secret-inside-bench', cookie: { secure: false } });
  let spent = 0n;
  let calls = 0;
  const app = express();
  app.use((req, res, next) => {
    let synchronous = false;
    const started = process.hrtime.bigint();
    middleware(req, res, (error) => {
      synchronous = true;
      if (error) next(error);
    });
    spent += process.hrtime.bigint() - started;
    calls++;
    if (synchronous) next();
    else throw new Error('inside: the session did not load synchronously (not a warm LRU hit)');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  // The sessions are created on a second app with the same middleware (a write on a fresh session
  // answers its cookie), so the measured app only ever sees warm reads.
  const cookies = [];
  const creator = express();
  creator.use(middleware);
  creator.get('/login', async (req, res) => {
    await req.session.setActiveOrder(1);
    res.send('ok');
  });
  const creatorServer = creator.listen(0, '127.0.0.1');
  await new Promise((resolve) => creatorServer.once('listening', resolve));
  for (let i = 0; i < 100; i++) {
    const response = await fetch(`http://127.0.0.1:${creatorServer.address().port}/login`);
    cookies.push(response.headers.getSetCookie()[0].split(';')[0]);
  }
  creatorServer.close();
  app.get('/', (req, res) => res.send(String(req.session.activeOrderId)));
  const requests = cookies.map((cookie) => ({ method: 'GET', path: '/', headers: { cookie } }));
  await autocannon({ url, connections: 50, duration: 1, requests });
  spent = 0n;
  calls = 0;
  const result = await autocannon({ url, connections: 50, duration: 3, requests });
  if (result.non2xx > 0) throw new Error(`inside: ${result.non2xx} answers were not 200`);
  server.close();
  await middleware.manager.close();
  return Number(spent) / 1000 / calls;
}
