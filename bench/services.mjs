// Throwaway Redis and PostgreSQL for the benchmarks (see /work/shared/TOOLCHAIN.md): started on
// loopback in a temporary directory, stopped by their pid, even when the bench fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A free TCP port on loopback. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Starts a throwaway redis-server; `stop()` kills it by pid. Installs it with apt when missing and root. */
export async function startRedis() {
  if (!has('redis-server')) {
    if (!isRoot) throw new Error('redis-server is not installed (and not root: cannot apt-get install it)');
    execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server'], { stdio: 'inherit' });
  }
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-bench-redis-'));
  const port = await freePort();
  const pidfile = join(dir, 'redis.pid');
  execFileSync('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'yes', '--pidfile', pidfile, '--logfile', join(dir, 'redis.log'), '--dir', dir,
  ]);
  for (let i = 0; i < 100 && !existsSync(pidfile); i++) await sleep(20);
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') break;
    await sleep(20);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      waitForExit(pid);
      removeDir(dir);
    },
  };
}

/** Starts a throwaway PostgreSQL 15 (fsync off, trust auth on loopback); `stop()` stops it. */
export async function startPostgres() {
  if (!existsSync(join(PG_BIN, 'initdb'))) throw new Error(`PostgreSQL binaries not found in ${PG_BIN}`);
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-bench-pg-'));
  const asPg = (args) => (isRoot ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0], args.slice(1)]);
  if (isRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const port = await freePort();
  const run = (args) => {
    const [cmd, rest] = asPg(args);
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  run(['mkdir', '-p', sock]);
  run([join(PG_BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const ctl = (action, extra = []) => run([join(PG_BIN, 'pg_ctl'), '-D', data, '-l', join(dir, 'pg.log'), '-w', ...extra, action]);
  ctl('start', ['-o', `-p ${port} -k ${sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        ctl('stop', ['-m', 'immediate']);
      } catch {}
      removeDir(dir);
    },
  };
}

/** Synchronous (cleanup runs in signal handlers too): up to 5 s for the process to go. */
function waitForExit(pid) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 250; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    Atomics.wait(pause, 0, 0, 20);
  }
}

function removeDir(dir) {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  } catch (error) {
    console.error(`[bench] could not remove ${dir}: ${error.message}`);
  }
}

function uidOf(user) {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gidOf(user) {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
