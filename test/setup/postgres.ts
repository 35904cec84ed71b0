/**
 * vitest globalSetup: a throwaway PostgreSQL cluster for the tests that need a real server.
 * `initdb` in a temp directory, `pg_ctl start` on a free port, `provide('postgresUrl')`, and on
 * teardown stop it and remove the directory. As root the server runs as the `postgres` user
 * (initdb refuses root), so every path it touches is owned by that user.
 *
 * `SOJOURN_TEST_POSTGRES_URL` skips all that and uses an existing server (a CI service container).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '../helpers/redis-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgresql://…` of the throwaway server, database `postgres`, trust auth. */
    postgresUrl: string;
  }
}

const IS_ROOT = process.getuid?.() === 0;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.SOJOURN_TEST_POSTGRES_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return async () => {};
  }
  const bin = findBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  const owner = IS_ROOT ? postgresIds() : undefined;
  if (owner) for (const path of [dir, sock]) chownSync(path, owner.uid, owner.gid);
  const port = await freePort();
  const run = (tool: string, args: string[]) => runTool(join(bin, tool), args);
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    const settings = [`-p ${port}`, `-k ${sock}`, '-c listen_addresses=127.0.0.1', '-c fsync=off',
      '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=200'];
    run('pg_ctl', ['-D', data, '-l', join(dir, 'pg.log'), '-w', '-t', '60', 'start', '-o', settings.join(' ')]);
  } catch (error) {
    const log = join(dir, 'pg.log');
    const tail = existsSync(log) ? `\n--- pg.log ---\n${readFileSync(log, 'utf8').slice(-2000)}` : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`test/setup/postgres: could not start PostgreSQL from ${bin}${tail}`, { cause: error });
  }
  project.provide('postgresUrl', `postgresql://postgres@127.0.0.1:${port}/postgres`);
  return async function teardown() {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

// ---------------------------------------------------------------------------------------

/** The newest `/usr/lib/postgresql/<v>/bin` with initdb; installs the Debian package as root if none. */
function findBinaries(): string {
  const found = newestBinDir();
  if (found) return found;
  if (!IS_ROOT) {
    throw new Error(
      'test/setup/postgres: no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin. ' +
        'Install them (Debian/Ubuntu: `sudo apt-get install -y postgresql`) or set SOJOURN_TEST_POSTGRES_URL ' +
        'to a server the tests may create tables in.',
    );
  }
  execFileSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql'], {
    stdio: 'inherit',
  });
  const installed = newestBinDir();
  if (!installed) throw new Error('test/setup/postgres: `apt-get install postgresql` left no initdb in /usr/lib/postgresql/*/bin');
  return installed;
}

function newestBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch (cause) {
    throw new Error('test/setup/postgres: running as root needs a `postgres` system user (the Debian package creates it)', { cause });
  }
}

/** Runs a server tool, as the `postgres` user when we are root. */
function runTool(path: string, args: string[]): void {
  const [command, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', cwd: tmpdir() });
  if (result.status !== 0) {
    throw new Error(`${path} ${args.join(' ')} exited with ${result.status}: ${result.stderr || result.stdout}`);
  }
}
