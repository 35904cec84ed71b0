/**
 * Throwaway `redis-server` processes: no persistence, bound to 127.0.0.1, a temp directory each.
 * Used by the global set-up (the shared server) and by the tests that kill and restart one.
 * No vitest imports: the global set-up loads this outside the test workers.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** The server's pid (from its pidfile). */
  readonly pid: number;
  /** Stops it (SIGTERM waits for it to exit; SIGKILL is a crash) and removes its directory. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** Starts a server on `port` (a free one by default) and waits until it answers PING. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const binary = findRedisServer();
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-redis-'));
  const pidfile = join(dir, 'redis.pid');
  const logfile = join(dir, 'redis.log');
  const args = ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
    '--pidfile', pidfile, '--logfile', logfile, '--dir', dir];
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`redis-server exited with ${result.status}: ${result.stderr || result.stdout}`);
  try {
    await waitFor(() => ping(chosen), 10_000, `redis-server on port ${chosen} did not answer PING`);
    await waitFor(async () => existsSync(pidfile), 5_000, 'redis-server wrote no pidfile');
  } catch (error) {
    const log = existsSync(logfile) ? readFileSync(logfile, 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n--- redis.log ---\n${log}`);
  }
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  let stopped: Promise<void> | undefined;
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    pid,
    stop: (signal = 'SIGTERM') => (stopped ??= stopServer(pid, signal, dir)),
  };
}

/** The `redis-server` binary; installs the Debian package when missing and we are root. */
export function findRedisServer(): string {
  const found = which('redis-server');
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The Redis tests need `redis-server` on the PATH. Install it (Debian/Ubuntu: `sudo apt-get install -y redis-server`, ' +
        'macOS: `brew install redis`) or set SOJOURN_TEST_REDIS_URL to a server the tests may write to.',
    );
  }
  execFileSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server'], { stdio: 'inherit' });
  const installed = which('redis-server');
  if (!installed) throw new Error('`apt-get install redis-server` left no redis-server on the PATH');
  return installed;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------

function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

async function stopServer(pid: number, signal: 'SIGTERM' | 'SIGKILL', dir: string): Promise<void> {
  try {
    process.kill(pid, signal);
    await waitFor(async () => !alive(pid), 10_000, `redis-server ${pid} did not exit`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One PING over a raw socket: true when the server answers +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
