import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, run, tsc, type PackedProject } from './helpers/package.js';

// The published package's declarations, type-checked from a scratch project as a user would.
let project: PackedProject;
let scratch: string;

beforeAll(() => {
  project = packedProject();
  scratch = project.dir;
}, 60_000);

afterAll(() => project.remove());

describe("the published package's types", () => {
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
