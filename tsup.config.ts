import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'lib/index.ts', redis: 'lib/redis.ts', postgres: 'lib/postgres.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  target: 'node20',
  platform: 'node',
  sourcemap: true,
  clean: true,
  splitting: false,
});
