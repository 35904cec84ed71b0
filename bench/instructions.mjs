// Instructions per request, by variant, counted by valgrind (callgrind), not timed:
//   node bench/instructions.mjs [--requests 2000] [--warmup 12000] [--keep DIR] [variant ...]
// (default: bare noop lookup sojourn; Redis and PostgreSQL are started as `npm run bench` does when a
// variant needs them).
// Needs valgrind (Debian: `apt-get install valgrind`). Each variant runs `bench/server.mjs` under
// callgrind, about 50 times slower than normal: a warm-up lets V8 finish optimising, then the
// counters are zeroed, a fixed number of requests is loaded and the counters are dumped.
// --keep DIR leaves each dump as DIR/<variant>.callgrind, for `callgrind_annotate` by function.
//
// Why: on a shared 2-core machine the req/s of one build moves by ±10 % from run to run (see
// README, Benchmarks), and a CPU profile leaves out work on other threads. An instruction count is
// the same from run to run within about 2 % for the main thread's own work ("main, no GC": the
// event loop, Node's HTTP code, Express and the session layer), whatever else the machine is doing.
// It counts work, not time (no cache misses, no waiting): a ratio of it is what the session
// layer adds, not a req/s ratio. GC and other threads (the optimising compiler, GC helpers) swing
// with when they happen to run: read the main-thread column.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eachVariant, traced } from './traced.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { requests: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '12000' }, keep: { type: 'string' } },
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);
const variants = positionals.length > 0 ? positionals : ['bare', 'noop', 'lookup', 'sojourn'];

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('bench/instructions.mjs needs valgrind (Debian: apt-get install valgrind)');
  process.exit(2);
}

// BENCH_TRACED: the server runs ~50× slower than normal; its timeouts are stretched to match.
const env = { ...process.env, NODE_ENV: 'development', BENCH_TRACED: '1' };
const results = await eachVariant(variants, env, count, 'instructions');

const base = results.get('bare');
console.log(`\ninstructions per request (callgrind; ${warmup.toLocaleString('en-US')} warm-up + ${requests.toLocaleString('en-US')} counted requests, 10 connections)\n`);
console.log('| variant | total | main thread, no GC | main-thread GC | other threads | × bare (total) | × bare (main, no GC) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
/** × bare: how many of this variant's requests cost what one bare Express request does. */
const timesBare = (r, column) => (base ? (base[column] / r[column]).toFixed(3) : '');
for (const variant of variants) {
  const r = results.get(variant);
  console.log(
    `| ${variant} | ${fmt(r.total)} | ${fmt(r.mutator)} | ${fmt(r.gc)} | ${fmt(r.threads)} | ${timesBare(r, 'total')} | ${timesBare(r, 'mutator')} |`,
  );
}

async function count(variant) {
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-callgrind-'));
  const args = ['--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(dir, 'out.%p')}`];
  try {
    return await traced(variant, { command: 'valgrind', args, env }, async ({ load, pid }) => {
      await load(warmup);
      const control = (flag) => execFileSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });
      control('--zero');
      await load(requests);
      control('--dump');
      const dump = readdirSync(dir).map((name) => join(dir, name)).find((file) => readFileSync(file, 'utf8').includes('Trigger: dump'));
      if (values.keep) {
        mkdirSync(values.keep, { recursive: true });
        copyFileSync(dump, join(values.keep, `${variant}.callgrind`));
      }
      const counted = split(dump);
      console.error(`[instructions] ${variant}: ${fmt(counted.mutator)} main thread, no GC`); // kept if a later variant fails
      return counted;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per request: everything; the main thread without its GC pauses; its GC pauses; other threads (GC helpers, the optimising compiler, libuv). */
function split(dump) {
  const total = Number(/^totals: (\d+)/m.exec(readFileSync(dump, 'utf8'))[1]);
  const inclusive = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const cost = (name) => {
    const line = inclusive.split('\n').find((l) => l.includes(name));
    return line ? Number(line.trim().split(/\s+/)[0].replaceAll(',', '')) : 0;
  };
  const main = cost('node::NodeMainInstance::Run()');
  const mainGc = cost('v8::internal::Heap::CollectGarbage(');
  return { total: total / requests, mutator: (main - mainGc) / requests, gc: mainGc / requests, threads: (total - main) / requests };
}

function fmt(n) {
  return Math.round(n).toLocaleString('en-US');
}
