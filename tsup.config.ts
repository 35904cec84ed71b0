import { writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

const entry = {
  index: 'lib/index.ts',
  koa: 'lib/koa.ts',
  websocket: 'lib/websocket.ts',
  redis: 'lib/redis.ts',
  postgres: 'lib/postgres.ts',
  'pg-boss': 'lib/pg-boss.ts',
  bullmq: 'lib/bullmq.ts',
};

// `npm run build` empties dist first (the prebuild script): the two builds below write disjoint
// files at the same time, so neither may clean.
export default defineConfig([
  {
    entry,
    format: ['esm', 'cjs'],
    target: 'node20',
    platform: 'node',
    // One copy of shared modules for every entry: symbols and classes (Session, the errors) must
    // be the same objects whether they came through 'sojourn', 'sojourn/koa' or 'sojourn/websocket'.
    splitting: true,
    onSuccess: writeEsmTypeEntries,
  },
  // The declarations exist once, as CommonJS (.d.cts); each ESM entry's .d.ts re-exports them. Two
  // copies would declare two `Session` classes, and a program that loads both (an .mts and a .cts
  // file) would see `Request.session` declared twice with different types (TS2717).
  { entry, format: ['cjs'], dts: { only: true } },
]);

async function writeEsmTypeEntries(): Promise<void> {
  for (const name of Object.keys(entry)) await writeFile(`dist/${name}.d.ts`, `export * from './${name}.cjs';\n`);
}
