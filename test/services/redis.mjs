// A throwaway redis-server: no persistence, 127.0.0.1, a free port, its own directory, run in
// the foreground as our child (its own process group) and listed for the watchdog.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { answersPing } from './resp.mjs';
import { findOrInstall, freePort, tail, waitFor } from './system.mjs';
import { adopt, serviceDir } from './watchdog.mjs';

const INSTALL_HINT =
  'Install Redis (Debian/Ubuntu: `sudo apt-get install -y redis-server`, macOS: `brew install redis`) ' +
  'or point the tests at a server with SOJOURN_TEST_REDIS_URL.';

/** Starts a server on `port` (a free one by default) and waits until it answers PING. */
export async function startRedisServer(port) {
  const dir = serviceDir('redis');
  try {
    const { port: chosen, process } = await launchRedis(dir, port);
    let stopped;
    return {
      port: chosen,
      url: `redis://127.0.0.1:${chosen}`,
      pid: process.pid,
      dir,
      stop: (signal = 'SIGTERM') => (stopped ??= process.kill(signal).finally(() => rmSync(dir, { recursive: true, force: true }))),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Runs redis-server in `dir` with `extraArgs`; resolves `{ port, process }` once it answers PING.
 * Without a `port` it takes a free one, and another if a different process took that one first.
 */
export async function launchRedis(dir, port, extraArgs = []) {
  const binary = await findRedisServer();
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort());
    try {
      return { port: chosen, process: await launchOnce(binary, dir, chosen, extraArgs) };
    } catch (error) {
      const portTaken = /Address already in use/.test(error.message);
      if (port !== undefined || !portTaken || attempt === 3) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------

function findRedisServer() {
  return findOrInstall('redis-server', 'redis-server', INSTALL_HINT);
}

async function launchOnce(binary, dir, port, extraArgs) {
  const log = join(dir, 'redis.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--dir', dir, '--logfile', log, ...extraArgs];
  // SIGKILL for the watchdog: nothing is persisted, so nothing is lost by not shutting down.
  const server = adopt(spawn(binary, args, { detached: true, stdio: 'ignore' }), 'SIGKILL');
  try {
    await waitFor(async () => !server.running || (await answersPing(port)), 10_000, `redis-server on port ${port} did not answer PING within 10 s`);
    if (!server.running) throw new Error(`redis-server on port ${port} exited at start`);
  } catch (error) {
    await server.kill('SIGKILL');
    throw new Error(`${error.message}\n--- ${log} ---\n${tail(log)}`, { cause: error });
  }
  return server;
}
