import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, tsc, type PackedProject } from './helpers/package.js';

// The published package's declarations, type-checked from a scratch project as a user would,
// with `skipLibCheck: false` so sojourn's own .d.ts files are checked too.
let project: PackedProject;

beforeAll(() => {
  project = packedProject();
}, 60_000);

afterAll(() => project.remove());

describe("the published package's types", () => {
  it('has one Session for ESM and CJS files in one program: the augmentations, and misuse rejected', async () => {
    // Two sets of declarations (.d.ts and .d.cts) would declare two Session classes, and
    // `Request.session` and Koa's `ctx.session` twice with different types: TS2717.
    const esm = `import express from 'express';
import Koa from 'koa';
import { sessionMiddleware, type Session } from 'sojourn';
import * as koa from 'sojourn/koa';\n`;
    const cjs = `import express = require('express');
import Koa = require('koa');
import sojourn = require('sojourn');
import koa = require('sojourn/koa');
const { sessionMiddleware } = sojourn;
type Session = sojourn.Session;\n`;
    const routes = `
const app = express();
app.use(sessionMiddleware());
app.post('/cart', async (req, res) => {
  const written: boolean = await req.session.setActiveOrder({ id: 42 });
  const session: Session = req.session;
  // @ts-expect-error: a boolean is not an order
  await req.session.setActiveOrder(true);
  res.json({ written, order: session.activeOrderId, kind: session.kind });
});
const web = new Koa();
web.use(koa.sessionMiddleware());
web.use(async (ctx) => {
  const session: Session = ctx.session;
  // @ts-expect-error: a boolean is not an order
  await ctx.session.setActiveOrder(true);
  ctx.body = { written: await session.setActiveOrder(1), same: ctx.state.session === ctx.session };
});
`;
    const errors = await typeCheck('mixed', { module: 'nodenext' }, { 'mixed.mts': esm + routes, 'mixed.cts': cjs + routes });
    expect(errors).toBe('');
  }, 60_000);

  it('resolves every subpath with types under node10, node16, nodenext (ESM and CJS) and bundler', async () => {
    // node10 (TypeScript's "node") ignores `exports`: typesVersions maps the subpaths for it.
    const source = `import express from 'express';
import { createSessionManager } from 'sojourn';
import { sessionMiddleware } from 'sojourn/koa';
import { websocketSessions } from 'sojourn/websocket';
import { redisStore } from 'sojourn/redis';
import { postgresStore } from 'sojourn/postgres';
import { pgBossQueue } from 'sojourn/pg-boss';
import { bullmqQueue } from 'sojourn/bullmq';

express().get('/', async (req) => {
  const written: boolean = await req.session.setActiveOrder(1);
  return written;
});
// Each call is wrong on purpose: a subpath that resolved to \`any\` would accept it.
// @ts-expect-error: not options
createSessionManager(42);
// @ts-expect-error: not options
sessionMiddleware(42);
// @ts-expect-error: not options
websocketSessions(42);
// @ts-expect-error: not options
redisStore(42);
// @ts-expect-error: not options
postgresStore(42);
// @ts-expect-error: not a PgBoss
pgBossQueue(42);
// @ts-expect-error: not options
bullmqQueue(42);
`;
    const manifest = JSON.parse(readFileSync(join(project.dir, 'node_modules/sojourn/package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const subpaths = Object.keys(manifest.exports).filter((key) => key !== '.' && key !== './package.json').map((key) => key.slice(2));
    expect(Object.keys(manifest.typesVersions['*'] ?? {})).toEqual(subpaths);
    for (const subpath of subpaths) expect(source).toContain(`from 'sojourn/${subpath}'`);
    // A Node project's libs, and TypeScript's own lib files unchecked: a third less time per run.
    const lean = { lib: ['ES2022'], skipDefaultLibCheck: true };
    const results = await Promise.all([
      typeCheck('node10', { ...lean, module: 'commonjs', moduleResolution: 'node10' }, { 'node10.ts': source }),
      typeCheck('node16', { ...lean, module: 'node16' }, { 'node16.mts': source, 'node16.cts': source }),
      typeCheck('nodenext', { ...lean, module: 'nodenext' }, { 'nodenext.mts': source, 'nodenext.cts': source }),
      typeCheck('bundler', { ...lean, module: 'esnext', moduleResolution: 'bundler' }, { 'bundler.ts': source }),
    ]);
    expect(Object.fromEntries(['node10', 'node16', 'nodenext', 'bundler'].map((name, i) => [name, results[i]]))).toEqual({
      node10: '',
      node16: '',
      nodenext: '',
      bundler: '',
    });
    // Four tsc runs at once: alone ~50 s, but during the full run on 2 cores it passed 90 s.
  }, 150_000);
});

// ---------------------------------------------------------------------------------------

/** Type-checks `files` in the scratch project with `options`; tsc's output, '' when it passed. */
async function typeCheck(name: string, options: Record<string, unknown>, files: Record<string, string>): Promise<string> {
  for (const [file, source] of Object.entries(files)) writeFileSync(join(project.dir, file), source);
  const compilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    target: 'ES2022',
    types: ['node'],
    esModuleInterop: true,
    // Only in this repo's hoisted node_modules: express 5's content-disposition 2 (with its own
    // types, no `Options`) shadows the @types/content-disposition that @types/koa 3 is written
    // against. An application with Koa alone gets the latter.
    paths: { 'content-disposition': ['./node_modules/@types/content-disposition'] },
    ...options,
  };
  writeFileSync(join(project.dir, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: Object.keys(files) }));
  try {
    await promisify(execFile)(tsc, ['-p', `tsconfig.${name}.json`], { cwd: project.dir });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout || error);
  }
}
