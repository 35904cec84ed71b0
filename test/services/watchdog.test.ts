/**
 * Nothing outlives the process that started it: a child process starts servers through
 * test/services and is then SIGKILLed, interrupted or left to exit; within a few seconds none of
 * the servers' processes (nor PostgreSQL's backends) runs, its temporary root directory is gone
 * and so is its watchdog.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/redis.js';

const OWNER = fileURLToPath(new URL('./fixtures/owner.mjs', import.meta.url));

interface Started {
  owner: ChildProcess;
  /** Every server process, PostgreSQL's backends included. */
  pids: number[];
  root: string;
  watchdog: number;
}

describe('servers started through test/services', () => {
  it('are killed and their directories removed when their starter is SIGKILLed (redis, cluster, postgres)', async () => {
    const started = await startOwner('redis,cluster,postgres');
    expect(started.pids.length).toBeGreaterThanOrEqual(1 + 6 + 1);
    started.owner.kill('SIGKILL');
    await expectNothingLeft(started);
  }, 60_000);

  it('are stopped when their starter is interrupted and leaves through process.exit (as vitest does on Ctrl-C)', async () => {
    const started = await startOwner('redis,postgres', 'exit-on-sigint');
    started.owner.kill('SIGINT');
    await expectNothingLeft(started);
  }, 60_000);

  it('are stopped when their starter dies of SIGTERM without a handler', async () => {
    const started = await startOwner('redis');
    started.owner.kill('SIGTERM');
    await expectNothingLeft(started);
  }, 60_000);

  it('leave nothing once stopped, and the starter exits by itself', async () => {
    const started = await startOwner('redis,postgres', 'stop');
    const exited = new Promise((resolve) => started.owner.once('exit', resolve));
    started.owner.stdin!.end();
    await exited;
    await expectNothingLeft(started);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------

async function startOwner(kinds: string, mode = 'wait'): Promise<Started> {
  const owner = spawn(process.execPath, [OWNER, kinds, mode], { stdio: 'pipe' });
  let stderr = '';
  owner.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const line = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    owner.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    owner.once('exit', (code) => !stdout.includes('\n') && reject(new Error(`the owner exited with ${code}: ${stderr}`)));
  });
  const { pids, dirs } = JSON.parse(line) as { pids: number[]; dirs: string[] };
  const root = dirname(dirs[0]!);
  const watchdog = Number(execFileSync('pgrep', ['-f', `watchdog-main.mjs ${owner.pid} `], { encoding: 'utf8' }).trim());
  return { owner, pids: [...pids, ...pids.flatMap(childrenOf)], root, watchdog };
}

async function expectNothingLeft({ pids, root, watchdog }: Started): Promise<void> {
  await eventually(() => pids.every((pid) => !running(pid)) && !existsSync(root) && !running(watchdog), 10_000, 'every server, its directory and the watchdog to go');
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** Runs, and is not a zombie waiting for its (re)parent to reap it. */
function running(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
