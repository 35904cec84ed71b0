/**
 * The package as published, for the package tests: `npm pack` of the current build, unpacked into
 * a scratch project next to the repo's own dependencies (symlinked, so no network).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
export const tsc = join(root, 'node_modules', '.bin', 'tsc');

export const run = (cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: 'pipe', env: env && { ...process.env, ...env } });

/** The command's stdout and stderr when it fails, '' when it succeeds. */
export function failureOf(cmd: string, args: string[], cwd: string): string {
  try {
    run(cmd, args, cwd);
    return '';
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return `${stdout ?? ''}${stderr ?? ''}` || String(error);
  }
}

export interface PackedProject {
  /** The scratch project; `node_modules/sojourn` is the unpacked tarball. */
  readonly dir: string;
  /** The tarball's paths, sorted. */
  readonly files: readonly string[];
  remove(): void;
}

/**
 * Packs `from` (the repo by default). Without its scripts by default: `npm test` has just built,
 * and `prepare` would build again on every pack.
 */
export function packedProject(from = root, { scripts = false } = {}): PackedProject {
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-pack-'));
  // Not --json: the output of a prepare script would land in the JSON.
  run('npm', ['pack', '--pack-destination', dir, scripts ? '--ignore-scripts=false' : '--ignore-scripts'], from);
  const tarball = join(dir, readdirSync(dir).find((name) => name.endsWith('.tgz')) ?? 'no tarball');
  const files = run('tar', ['tzf', tarball], dir).split('\n').filter(Boolean).map((path) => path.replace(/^package\//, '')).sort();
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, 'sojourn'), { recursive: true });
  run('tar', ['xzf', tarball, '-C', join(modules, 'sojourn'), '--strip-components=1'], dir);
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== 'sojourn' && !entry.startsWith('.')) symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
