import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as published: `npm pack`, unpacked into a scratch project next to the repo's own
// dependencies (symlinked, so no network), then imported from ESM and CJS and type-checked.
const root = resolve(import.meta.dirname, '..');
const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
let scratch: string;
let packed: string[];

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sojourn-pack-'));
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], root)) as [
    { filename: string; files: { path: string }[] },
  ];
  packed = info.files.map((file) => file.path).sort();
  const modules = join(scratch, 'node_modules');
  mkdirSync(join(modules, 'sojourn'), { recursive: true });
  run('tar', ['xzf', join(scratch, info.filename), '-C', join(modules, 'sojourn'), '--strip-components=1'], scratch);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== 'sojourn' && !entry.startsWith('.')) symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
}, 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the published package', () => {
  it('ships only the build output and the docs', () => {
    expect(packed.filter((path) => !path.startsWith('dist/'))).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.cjs');
    expect(packed).toContain('dist/index.d.ts');
    expect(packed).toContain('dist/index.d.cts');
    for (const entry of ['koa', 'websocket', 'redis', 'postgres']) {
      for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) expect(packed).toContain(`dist/${entry}.${ext}`);
    }
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
      typeof r.redisCache, typeof p.postgresStore, typeof p.schemaSql].join()`;
    const esm = `const k = await import('sojourn/koa'); const w = await import('sojourn/websocket');
      const r = await import('sojourn/redis'); const p = await import('sojourn/postgres'); console.log(${names})`;
    const cjs = `const k = require('sojourn/koa'); const w = require('sojourn/websocket');
      const r = require('sojourn/redis'); const p = require('sojourn/postgres'); console.log(${names})`;
    const expected = Array(7).fill('function').join();
    expect(run('node', ['--input-type=module', '-e', esm], scratch).trim()).toBe(expected);
    expect(run('node', ['-e', cjs], scratch).trim()).toBe(expected);
    const loaded = `for (const entry of ['', '/koa', '/websocket', '/redis', '/postgres']) require('sojourn' + entry);
      console.log(Object.keys(require.cache).filter((f) => /node_modules[\\/](redis|@redis|pg|koa|ws|express)[\\/]/.test(f)).length)`;
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

  it('types req.session and ctx.session through the shipped augmentations, and rejects misuse', () => {
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false, types: ['node'] },
        exclude: ['koa*.mts'],
      }),
    );
    // @types/koa 3 does not type-check against its own dependencies' types (content-disposition),
    // so the Koa files skip library checks; sojourn's declarations are checked by the run above.
    writeFileSync(join(scratch, 'tsconfig.koa.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { skipLibCheck: true }, include: ['koa*.mts'], exclude: [] }));
    writeFileSync(
      join(scratch, 'good.mts'),
      `import express from 'express';
import { sessionMiddleware, type Session } from 'sojourn';
const app = express();
app.use(sessionMiddleware());
app.post('/cart', async (req, res) => {
  const written: boolean = await req.session.setActiveOrder({ id: 42 });
  const session: Session = req.session;
  res.json({ written, order: session.activeOrderId, kind: session.kind });
});
`,
    );
    writeFileSync(
      join(scratch, 'koa.mts'),
      `import Koa from 'koa';
import { sessionMiddleware } from 'sojourn/koa';
const app = new Koa();
app.use(sessionMiddleware());
app.use(async (ctx) => {
  const written: boolean = await ctx.session.setActiveOrder(1);
  ctx.body = { written, same: ctx.state.session === ctx.session };
});
`,
    );
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    expect(() => run(tsc, ['-p', '.'], scratch)).not.toThrow();
    expect(() => run(tsc, ['-p', 'tsconfig.koa.json'], scratch)).not.toThrow();
    writeFileSync(join(scratch, 'bad.mts'), `import express from 'express';\nconst app = express();\napp.get('/', (req) => req.session.setActiveOrder(true));\n`);
    let output = '';
    try {
      run(tsc, ['-p', '.'], scratch);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toMatch(/bad\.mts.*TS2345/);
    writeFileSync(join(scratch, 'koa-bad.mts'), `import Koa from 'koa';\nimport 'sojourn/koa';\nnew Koa().use((ctx) => ctx.session.setActiveOrder(true));\n`);
    output = '';
    try {
      run(tsc, ['-p', 'tsconfig.koa.json'], scratch);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    expect(output).toMatch(/koa-bad\.mts.*TS2345/);
  }, 60_000);
});
