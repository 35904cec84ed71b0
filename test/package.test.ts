import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, run, type PackedProject } from './helpers/package.js';

// The package as published: `npm pack`, unpacked into a scratch project, then imported from ESM
// and CJS. Its types are checked in package-types.test.ts, other Node versions in
// package-node-versions.test.ts.
const ENTRIES = ['index', 'koa', 'websocket', 'redis', 'postgres', 'pg-boss', 'bullmq'];
const REPOSITORY = 'https://github.com/sojourn-sessions/sojourn';
let project: PackedProject;
let scratch: string;

beforeAll(() => {
  project = packedProject();
  scratch = project.dir;
}, 60_000);

afterAll(() => project.remove());

describe('the published package', () => {
  it('ships the build output and the docs, and no source maps', () => {
    // `files` in package.json is the allowlist; npm adds package.json, README and LICENSE itself.
    const dist = project.files.filter((path) => path.startsWith('dist/'));
    expect(project.files.filter((path) => !path.startsWith('dist/'))).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    const entries = ENTRIES.flatMap((entry) => ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => `dist/${entry}.${ext}`));
    expect(dist.filter((path) => entries.includes(path)).sort()).toEqual(entries.sort());
    // The rest are the chunks shared by the entries: code (chunk-*.js / .cjs) and declarations,
    // which exist once, as .d.cts (the ESM entries' .d.ts re-export them).
    expect(dist.filter((path) => !entries.includes(path) && !/^dist\/(chunk-\w+\.c?js|[\w-]+\.d\.cts)$/.test(path))).toEqual([]);
    // Maps without the sources they point to are dead weight (they were 55 % of the tarball).
    expect(dist.filter((path) => path.endsWith('.map'))).toEqual([]);
    const pointing = dist.filter((path) => readFileSync(join(scratch, 'node_modules/sojourn', path), 'utf8').includes('sourceMappingURL'));
    expect(pointing).toEqual([]);
  });

  it('names its repository, home page and issue tracker', () => {
    const manifest = JSON.parse(readFileSync(join(scratch, 'node_modules/sojourn/package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.repository).toEqual({ type: 'git', url: `git+${REPOSITORY}.git` });
    expect(manifest.homepage).toBe(`${REPOSITORY}#readme`);
    expect(manifest.bugs).toEqual({ url: `${REPOSITORY}/issues` });
  });

  it('is importable from ESM and requirable from CJS, with the same surface', () => {
    const names = "['createSessionManager','sessionMiddleware','captureSessionErrors','memoryStore','lruCache','noCache','SessionClosedError','SessionStoreError','SessionConfigError','Session']";
    const check = `const names = ${names}; const missing = names.filter((n) => typeof m[n] !== 'function'); if (missing.length) throw new Error('missing ' + missing); console.log(Object.keys(m).length)`;
    const esm = run('node', ['--input-type=module', '-e', `import * as m from 'sojourn'; ${check}`], scratch);
    const cjs = run('node', ['-e', `const m = require('sojourn'); ${check}`], scratch);
    expect(Number(esm)).toBeGreaterThanOrEqual(10);
    expect(cjs).toBe(esm);
  });

  it('resolves every subpath export from ESM and CJS, and the core never loads a driver', () => {
    const names = `[typeof k.sessionMiddleware, typeof k.eventStream, typeof w.websocketSessions, typeof r.redisStore,
      typeof r.redisCache, typeof p.postgresStore, typeof p.schemaSql, typeof g.pgBossQueue, typeof b.bullmqQueue].join()`;
    const esm = `const k = await import('sojourn/koa'); const w = await import('sojourn/websocket');
      const r = await import('sojourn/redis'); const p = await import('sojourn/postgres');
      const g = await import('sojourn/pg-boss'); const b = await import('sojourn/bullmq'); console.log(${names})`;
    const cjs = `const k = require('sojourn/koa'); const w = require('sojourn/websocket');
      const r = require('sojourn/redis'); const p = require('sojourn/postgres');
      const g = require('sojourn/pg-boss'); const b = require('sojourn/bullmq'); console.log(${names})`;
    const expected = Array(9).fill('function').join();
    expect(run('node', ['--input-type=module', '-e', esm], scratch).trim()).toBe(expected);
    expect(run('node', ['-e', cjs], scratch).trim()).toBe(expected);
    const loaded = `for (const entry of ['', '/koa', '/websocket', '/redis', '/postgres', '/pg-boss', '/bullmq']) require('sojourn' + entry);
      console.log(Object.keys(require.cache).filter((f) => /node_modules[\\/](redis|@redis|pg|pg-boss|bullmq|ioredis|koa|ws|express)[\\/]/.test(f)).length)`;
    expect(run('node', ['-e', loaded], scratch).trim()).toBe('0');
  });

  it('shares one manager, one Session class and one set of errors across the entries', () => {
    // Each entry is its own bundle: without shared chunks a manager from 'sojourn' would not be
    // recognised by 'sojourn/koa' or 'sojourn/websocket'.
    const script = `
      const http = require('node:http');
      const Koa = require('koa');
      const { WebSocketServer, WebSocket } = require('ws');
      const { createSessionManager, Session } = require('sojourn');
      const koa = require('sojourn/koa');
      const { websocketSessions, sessionOf } = require('sojourn/websocket');
      const manager = createSessionManager({ secret: 'a'.repeat(32) });
      const app = new Koa();
      app.use(koa.sessionMiddleware({ manager }));
      app.use((ctx) => { ctx.body = { isSession: ctx.session instanceof Session }; });
      const server = http.createServer(app.callback());
      const wss = new WebSocketServer({ noServer: true });
      const sockets = websocketSessions({ manager });
      server.on('upgrade', sockets.handleUpgrade(wss));
      wss.on('connection', (ws) => ws.send(JSON.stringify({ kind: sessionOf(ws).kind, isSession: sessionOf(ws) instanceof Session })));
      server.listen(0, '127.0.0.1', async () => {
        const base = '127.0.0.1:' + server.address().port;
        const body = await (await fetch('http://' + base + '/')).json();
        const socket = new WebSocket('ws://' + base + '/');
        socket.on('message', async (message) => {
          console.log(JSON.stringify({ koa: body, ws: JSON.parse(String(message)) }));
          socket.close();
          await sockets.close();
          server.close();
          await manager.close();
        });
      });`;
    const out = JSON.parse(run('node', ['-e', script], scratch)) as { koa: { isSession: boolean }; ws: { kind: string; isSession: boolean } };
    expect(out).toEqual({ koa: { isSession: true }, ws: { kind: 'websocket', isSession: true } });
  });

  it('serves a session from a CJS Express app', () => {
    const script = `
      const express = require('express');
      const { sessionMiddleware } = require('sojourn');
      const app = express();
      app.use(sessionMiddleware({ secret: 'a'.repeat(32) }));
      app.get('/', async (req, res) => { await req.session.setActiveOrder(7); res.json({ order: req.session.activeOrderId }); });
      const server = app.listen(0, '127.0.0.1', async () => {
        const answer = await fetch('http://127.0.0.1:' + server.address().port + '/');
        console.log(JSON.stringify({ body: await answer.json(), cookie: answer.headers.get('set-cookie') }));
        server.close();
      });`;
    const out = JSON.parse(run('node', ['-e', script], scratch)) as { body: { order: number }; cookie: string };
    expect(out.body.order).toBe(7);
    expect(out.cookie).toMatch(/^session=[0-9a-f-]{36}\.[\w-]{43}\.[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
  });
});
