// Nothing left behind: every process that starts servers gets one temporary root directory
// (each server's directory lives inside it) and one detached watchdog process. Each server's pid
// is written to the root as it starts; when this process dies in any way, even SIGKILLed, the
// watchdog kills what is still listed there and removes the root (see watchdog-main.mjs).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalGroup, startTimeOf, alive } from './system.mjs';

const WATCHDOG = fileURLToPath(new URL('./watchdog-main.mjs', import.meta.url));
let owner;

/** A new directory for one server, inside this process's root. */
export function serviceDir(name) {
  return mkdtempSync(join(ownerRoot(), `${name}-`));
}

/**
 * Takes charge of a server started as `child` (spawned with `detached: true`, so it leads its own
 * process group): listed for the watchdog until it exits; `kill()` signals the group and waits.
 */
export function adopt(child, stopSignal) {
  if (child.pid === undefined) {
    child.once('error', () => {}); // reported by the throw below
    throw new Error(`could not start ${child.spawnfile}`);
  }
  child.unref();
  const forget = listPid(child.pid, stopSignal);
  let running = true;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      forget();
      resolve({ code, signal });
    });
  });
  return {
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
    async kill(signal = stopSignal) {
      if (!running) return;
      child.ref(); // keeps this process alive until the exit is seen
      signalGroup(child.pid, signal);
      await exited;
    },
  };
}

/** The servers listed under `root`: `{ pid, startTime, signal }` each. */
export function listedServers(root) {
  let names = [];
  try {
    names = readdirSync(join(root, 'pids')).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    try {
      return [JSON.parse(readFileSync(join(root, 'pids', name), 'utf8'))];
    } catch {
      return []; // removed meanwhile
    }
  });
}

/** Still the process that was listed (not a pid the kernel has since given to another). */
export function isStillOurs({ pid, startTime }) {
  return alive(pid) && (startTime === undefined || startTimeOf(pid) === startTime);
}

// ---------------------------------------------------------------------------------------

function ownerRoot() {
  owner ??= becomeOwner();
  return owner.root;
}

function becomeOwner() {
  const root = mkdtempSync(join(tmpdir(), `sojourn-services-${process.pid}-`));
  chmodSync(root, 0o711); // servers that run as another user (postgres) reach their own directories
  mkdirSync(join(root, 'pids'));
  const watchdog = spawn(process.execPath, [WATCHDOG, String(process.pid), startTimeOf(process.pid) ?? '', root], {
    detached: true, // its own session: a Ctrl-C meant for the tests does not reach it
    stdio: ['pipe', 'ignore', 'ignore'], // the pipe closes when this process dies: the watchdog's cue
    cwd: '/',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  watchdog.unref();
  watchdog.stdin.on('error', () => {});
  watchdog.stdin.unref();
  process.once('exit', () => stopListedServers(root));
  return { root };
}

/** On exit: signal what still runs and leave the waiting to the watchdog, or remove the empty root. */
function stopListedServers(root) {
  const listed = listedServers(root).filter(isStillOurs);
  for (const { pid, signal } of listed) signalGroup(pid, signal);
  if (listed.length === 0) rmSync(root, { recursive: true, force: true });
}

/** Lists `pid` (atomically: a crash mid-write leaves no half a record); returns how to unlist it. */
function listPid(pid, signal) {
  const root = ownerRoot();
  const file = join(root, 'pids', `${pid}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ pid, startTime: startTimeOf(pid), signal }));
  renameSync(`${file}.tmp`, file);
  return () => {
    try {
      unlinkSync(file);
    } catch {
      // the root is already gone
    }
  };
}
