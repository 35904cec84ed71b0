// The watchdog process: `node watchdog-main.mjs OWNER_PID OWNER_START_TIME ROOT`, started detached
// by watchdog.mjs. When the owner is gone (its pipe on our stdin closes, or its pid stops being
// it), stops every server still listed under ROOT (their stop signal, SIGKILL after 5 s), removes
// ROOT and exits.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, signalGroup, startTimeOf } from './system.mjs';
import { isStillOurs, listedServers } from './watchdog.mjs';

const [ownerPid, ownerStartTime, root] = process.argv.slice(2);
const POLL_MS = 200;

let cleaning = false;
async function cleanUp() {
  if (cleaning) return;
  cleaning = true;
  const listed = listedServers(root).filter(isStillOurs);
  for (const { pid, signal } of listed) signalGroup(pid, signal);
  if (!(await allGone(listed, 5_000))) {
    for (const server of listed.filter(isStillOurs)) signalGroup(server.pid, 'SIGKILL');
    await allGone(listed, 2_000);
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  process.exit(0);
}

async function allGone(servers, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (servers.some(isStillOurs)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

function ownerGone() {
  const pid = Number(ownerPid);
  return !alive(pid) || (ownerStartTime !== '' && startTimeOf(pid) !== ownerStartTime);
}

process.stdin.on('data', () => {});
process.stdin.on('close', cleanUp);
process.stdin.on('error', cleanUp);
setInterval(() => ownerGone() && cleanUp(), POLL_MS);
