import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { packedProject, root, run, type PackedProject } from './helpers/package.js';

// `npm install github:sojourn-sessions/sojourn` clones the repository, where dist/ is not
// committed, installs its dependencies, runs its `prepare` script and packs the result. This does
// the same with what a commit of the working tree would hold and the repo's own node_modules.
let checkout: string | undefined;
let project: PackedProject | undefined;

afterAll(() => {
  project?.remove();
  if (checkout) rmSync(checkout, { recursive: true, force: true });
});

it('builds dist/ when packed from a git checkout, as npm does for a git dependency', () => {
  checkout = mkdtempSync(join(tmpdir(), 'sojourn-checkout-'));
  const committable = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root).split('\0');
  for (const file of committable) if (file && existsSync(join(root, file))) cpSync(join(root, file), join(checkout, file));
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  expect(existsSync(join(checkout, 'dist'))).toBe(false);
  project = packedProject(checkout, { scripts: true });
  for (const entry of ['index', 'koa', 'websocket', 'redis', 'postgres', 'pg-boss', 'bullmq']) {
    for (const ext of ['js', 'cjs', 'd.ts', 'd.cts']) expect(project.files).toContain(`dist/${entry}.${ext}`);
  }
  const loaded = run('node', ['-e', "console.log(typeof require('sojourn').sessionMiddleware)"], project.dir);
  expect(loaded.trim()).toBe('function');
}, 120_000);
