// A throwaway PostgreSQL: the newest /usr/lib/postgresql/*/bin (Debian's `postgresql` installed
// with apt as root when there is none), initdb as the `postgres` user when we are root (initdb
// refuses root), the postmaster run in the foreground as our child and listed for the watchdog.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, fchownSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { aptInstall, freePort, IS_ROOT, tail, waitFor } from './system.mjs';
import { adopt, serviceDir } from './watchdog.mjs';

const run = promisify(execFile);
const INSTALL_HINT =
  'Install the server (Debian/Ubuntu: `sudo apt-get install -y postgresql`) or point the tests at a server ' +
  'they may create tables in with SOJOURN_TEST_POSTGRES_URL.';
/** Throwaway speed: nothing is flushed to disk. */
const FAST = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

/**
 * Starts a server on a free port. `durable: true` keeps fsync on, for tests that crash it and count
 * what survived. `crash()` is an immediate shutdown (no checkpoint); `start()` starts it again on
 * the same data and port; `stop()` shuts it down and removes its directory.
 */
export async function startPostgres({ durable = false, maxConnections = 200 } = {}) {
  const bin = await findBinaries();
  const user = IS_ROOT ? postgresUser() : {};
  const dir = serviceDir('postgres');
  if (IS_ROOT) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
      { ...user, cwd: dir }).catch((error) => {
      throw new Error(`initdb failed: ${error.stderr || error.message}`, { cause: error });
    });
    const port = await freePort();
    const settings = ['listen_addresses=127.0.0.1', 'unix_socket_directories=', `max_connections=${maxConnections}`, ...(durable ? [] : FAST)];
    const args = ['-D', data, '-p', String(port), ...settings.flatMap((setting) => ['-c', setting])];
    const server = { bin, user, dir, data, port, args, process: undefined };
    await launch(server);
    return postgresHandle(server);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL from ${bin}: ${error.message}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------

function postgresHandle(server) {
  let stopped;
  return {
    url: `postgresql://postgres@127.0.0.1:${server.port}/postgres`,
    port: server.port,
    dir: server.dir,
    get pid() {
      return server.process.pid;
    },
    crash: () => server.process.kill('SIGQUIT'),
    async start() {
      if (!server.process.running) await launch(server);
    },
    stop: () => (stopped ??= server.process.kill('SIGQUIT').then(() => rmSync(server.dir, { recursive: true, force: true }))),
  };
}

/** Starts the postmaster and waits until it reports itself ready (what `pg_ctl -w` waits for). */
async function launch(server) {
  const log = join(server.dir, 'postgres.log');
  const fd = openSync(log, 'a');
  if (IS_ROOT) fchownSync(fd, server.user.uid, server.user.gid); // every path of the server is its user's
  try {
    const child = spawn(join(server.bin, 'postgres'), server.args, { ...server.user, cwd: server.dir, detached: true, stdio: ['ignore', fd, fd] });
    // SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
    server.process = adopt(child, 'SIGQUIT');
  } finally {
    closeSync(fd);
  }
  const { process } = server;
  try {
    await waitFor(() => !process.running || isReady(server.data, process.pid), 60_000, 'not ready within 60 s');
    if (!process.running) throw new Error('the postmaster exited at start');
  } catch (error) {
    await process.kill('SIGKILL');
    throw new Error(`${error.message}\n--- ${log} ---\n${tail(log)}`, { cause: error });
  }
}

/** postmaster.pid names this postmaster and its 8th line says `ready`. */
function isReady(data, pid) {
  try {
    const lines = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
    return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
  } catch {
    return false;
  }
}

async function findBinaries() {
  const found = newestBinDir();
  if (found) return found;
  if (!IS_ROOT) throw new Error(`no PostgreSQL server binaries (initdb, postgres) in /usr/lib/postgresql/*/bin. ${INSTALL_HINT}`);
  await aptInstall('postgresql');
  const installed = newestBinDir();
  if (!installed) throw new Error(`\`apt-get install postgresql\` left no initdb in /usr/lib/postgresql/*/bin. ${INSTALL_HINT}`);
  return installed;
}

function newestBinDir() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const [newest] = readdirSync(root)
    .filter((version) => existsSync(join(root, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return newest && join(root, newest, 'bin');
}

/** As root the server runs as `postgres`, the user Debian's package creates. */
function postgresUser() {
  try {
    const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch (cause) {
    throw new Error(`running as root needs a \`postgres\` system user. ${INSTALL_HINT}`, { cause });
  }
}
