import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      { find: /^sojourn\/(koa|websocket|redis|postgres|pg-boss|bullmq)$/, replacement: fileURLToPath(new URL('./lib/$1.ts', import.meta.url)) },
      { find: /^sojourn$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/services.ts'],
    setupFiles: ['test/setup/warnings.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
