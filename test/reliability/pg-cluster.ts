/**
 * An extra throwaway PostgreSQL cluster that a test may crash (`pg_ctl stop -m immediate`: no
 * shutdown checkpoint, like a power cut for the server process) and start again on the same data
 * directory and port. Durable settings (fsync and synchronous_commit on), unlike the shared test
 * server, so "nothing acknowledged is lost" is measured for real. As root the server runs as the
 * `postgres` user, as in test/setup/postgres.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server.js';

export interface PgCluster {
  readonly url: string;
  start(): void;
  /** `pg_ctl stop -m immediate`. */
  crash(): void;
  remove(): void;
}

const IS_ROOT = process.getuid?.() === 0;

export async function pgCluster(): Promise<PgCluster> {
  const bin = binaries();
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-rel-pg-'));
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (IS_ROOT) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    for (const path of [dir, sock]) chownSync(path, id('-u'), id('-g'));
  }
  const port = await freePort();
  const run = (tool: string, args: string[]) => {
    const path = join(bin, tool);
    const [command, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    const result = spawnSync(command, argv, { encoding: 'utf8', cwd: tmpdir() });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')}: ${result.stderr || result.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const settings = [`-p ${port}`, `-k ${sock}`, '-c listen_addresses=127.0.0.1', '-c max_connections=50'].join(' ');
  const cluster: PgCluster = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start: () => run('pg_ctl', ['-D', data, '-l', join(dir, 'pg.log'), '-w', '-t', '60', 'start', '-o', settings]),
    crash: () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    remove() {
      try {
        cluster.crash();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}

function binaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions[0]) throw new Error('no PostgreSQL server binaries in /usr/lib/postgresql/*/bin');
  return join(root, versions[0], 'bin');
}
