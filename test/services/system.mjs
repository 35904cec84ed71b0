// What the service starters share: free ports, binaries (installed with apt as root when
// missing), process liveness that sees through zombies, and polling.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const IS_ROOT = process.getuid?.() === 0;
const run = promisify(execFile);

/** `count` distinct free TCP ports on loopback (all held open at once, so none repeats). */
export async function freePorts(count) {
  const servers = await Promise.all(Array.from({ length: count }, listenOnAnyPort));
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export async function freePort() {
  const [port] = await freePorts(1);
  return port;
}

/** The path of `command`, installing Debian's `aptPackage` first when it is missing and we are root. */
export async function findOrInstall(command, aptPackage, hint) {
  const found = which(command);
  if (found) return found;
  if (!IS_ROOT) throw new Error(`\`${command}\` is not on the PATH. ${hint}`);
  await aptInstall(aptPackage);
  const installed = which(command);
  if (!installed) throw new Error(`\`apt-get install ${aptPackage}\` left no \`${command}\` on the PATH. ${hint}`);
  return installed;
}

let aptQueue = Promise.resolve();
/** apt-get install, one at a time (services start in parallel; dpkg takes one lock). */
export function aptInstall(aptPackage) {
  const install = async () => {
    process.stderr.write(`[services] installing ${aptPackage} with apt-get (once per machine)\n`);
    const script = `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${aptPackage}`;
    try {
      await run('sh', ['-c', script], { maxBuffer: 64 * 1024 * 1024 });
    } catch (error) {
      throw new Error(`apt-get install ${aptPackage} failed: ${error.stderr || error.message}`, { cause: error });
    }
  };
  aptQueue = aptQueue.catch(() => {}).then(install);
  return aptQueue;
}

export function which(command) {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path ? path : undefined;
}

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === 'EPERM';
  }
  return procStat(pid)?.state !== 'Z';
}

/** The process's start time in clock ticks since boot (Linux), to tell a reused pid from ours. */
export function startTimeOf(pid) {
  return procStat(pid)?.startTime;
}

/** Sends `signal` to the process group `pid` leads, or to `pid` alone if it leads none; ignores the gone. */
export function signalGroup(pid, signal) {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
      return;
    } catch {
      // no such group (or process): try the process, then give up
    }
  }
}

/** Polls `check` every 20 ms until it holds; throws `message` after `timeoutMs`. */
export async function waitFor(check, timeoutMs, message) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(20);
  }
}

/** The last `chars` characters of a log file, for error messages. */
export function tail(file, chars = 2_000) {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-chars) : '(no log)';
}

// ---------------------------------------------------------------------------------------

function listenOnAnyPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function procStat(pid) {
  let stat;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], startTime: fields[19] };
}
