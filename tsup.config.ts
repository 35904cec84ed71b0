import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'lib/index.ts',
    koa: 'lib/koa.ts',
    websocket: 'lib/websocket.ts',
    redis: 'lib/redis.ts',
    postgres: 'lib/postgres.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node20',
  platform: 'node',
  clean: true,
  // One copy of shared modules for every entry: symbols and classes (Session, the errors) must
  // be the same objects whether they came through 'sojourn', 'sojourn/koa' or 'sojourn/websocket'.
  splitting: true,
});
