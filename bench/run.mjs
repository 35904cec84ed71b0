// Side-by-side HTTP benchmark: `node bench/run.mjs [--smoke] [--duration 3] [--rounds 10]
//   [--connections 50] [--warmup 1] [--sessions 100] [--variants a,b,c]`
// (or BENCH_DURATION, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_WARMUP, BENCH_SESSIONS, BENCH_VARIANTS).
//
// Every variant runs in its own child process (bench/server.mjs) on loopback; autocannon loads
// it from this process with the same connections, warm-up and duration. Each variant first
// creates `sessions` sessions; every request then carries one of their cookies (round robin;
// bare Express and the no-op get a cookie of the same size, so every variant parses the same bytes).
// Variants are interleaved over rounds, each round starting one variant later (A B C, B C A, …),
// so machine drift and the place in a round hit all alike; the table shows medians over rounds,
// and ratios to bare Express computed within each round.
// --patched DIR: sojourn variants also run against the build in DIR (before/after in one run).
// --smoke: about 2 s per variant, 1 round; checks that every variant starts, reads its session
// and answers 200, asserts nothing about speed. Exit code 1 when a variant fails.
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { VARIANTS } from './server.mjs';
import { freePort, startPostgres, startRedisServer } from '../test/services/index.mjs';

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    warmup: { type: 'string' },
    sessions: { type: 'string' },
    variants: { type: 'string' },
    patched: { type: 'string' },
  },
});

const number = (flag, env, fallback) => {
  const value = Number(flags[flag] ?? process.env[env] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`bench: --${flag} must be a positive number`);
  return value;
};
const smoke = flags.smoke || process.env.BENCH_SMOKE === '1';
const config = {
  // Many short rounds rather than a few long ones: req/s drifts by ±20 % within a minute on
  // these machines, and a ratio is only as good as the pairing of the slices it compares.
  duration: number('duration', 'BENCH_DURATION', smoke ? 2 : 3),
  rounds: Math.round(number('rounds', 'BENCH_ROUNDS', smoke ? 1 : 10)),
  connections: Math.round(number('connections', 'BENCH_CONNECTIONS', 50)),
  warmup: number('warmup', 'BENCH_WARMUP', smoke ? 0.5 : 1),
  sessions: Math.round(number('sessions', 'BENCH_SESSIONS', 100)),
};
const DEFAULT_VARIANTS = Object.keys(VARIANTS);
const chosen = (flags.variants ?? process.env.BENCH_VARIANTS ?? DEFAULT_VARIANTS.join(',')).split(',').filter(Boolean);
for (const name of chosen) if (!(name in VARIANTS)) throw new TypeError(`bench: unknown variant ${name}`);
// --patched DIR: every sojourn variant runs a second time against another build (before/after in one run).
const patchedDist = flags.patched ?? process.env.BENCH_PATCHED_DIST;
if (patchedDist) chosen.push(...chosen.filter((v) => v.startsWith('sojourn')).map((v) => `${v}+patched`));
const label = (name) => (name.endsWith('+patched') ? `${VARIANTS[name.slice(0, -8)]} (patched)` : VARIANTS[name]);

/** Ratios the issue asks for, each checked within one round: [variant, baseline, at least]. */
const TARGETS = [
  ['sojourn', 'bare', 0.95],
  ['sojourn', 'es-memory', 1.4],
  ['sojourn-redis', 'es-redis', 1.3],
  ['sojourn-chain', 'bare', 0.9],
];

/** Printed beside the targets: what any Express middleware and any session layer cost at least, and sojourn against those floors. */
const REFERENCES = [
  ['noop', 'bare'],
  ['lookup', 'bare'],
  ['sojourn', 'noop'],
  ['sojourn', 'lookup'],
  ['sojourn-chain', 'noop'],
  ['sojourn-write', 'es-memory-write'],
];

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const services = [];
const children = new Set();

async function main() {
  const needsRedis = chosen.some((v) => /redis|chain/.test(v));
  const needsPg = chosen.includes('sojourn-chain');
  const env = { ...process.env, NODE_ENV: 'development' };
  if (needsRedis) env.BENCH_REDIS_URL = await startService('Redis', startRedisServer);
  if (needsPg) env.BENCH_PG_URL = await startService('PostgreSQL', startPostgres);

  const servers = [];
  const pending = [];
  for (const name of chosen) {
    const server = await startServer(name, env);
    if (server.pending) pending.push([name, server.pending]);
    else servers.push(server);
  }
  for (const server of servers) await prepare(server);

  const results = new Map(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= config.rounds; round++) {
    // Each round starts one variant later (A B C, B C A, C A B …): a variant's place in the round
    // measurably moves its numbers on these machines, so every variant takes every place in turn.
    const shift = (round - 1) % servers.length;
    for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
      if (config.warmup > 0) await load(server, config.warmup);
      const result = await load(server, config.duration);
      results.get(server.name).push(result);
      log(`round ${round}/${config.rounds} ${server.name.padEnd(16)} ${Math.round(result.rps)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  ${result.cpuPerRequest.toFixed(0)} µs CPU/req${result.bad ? `  ${result.bad} failed` : ''}`);
    }
  }
  const failures = report(results, pending);
  if (smoke && failures.length > 0) {
    console.error(`\nsmoke: FAILED: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else if (smoke) {
    console.log(`\nsmoke: every variant started and answered 200 (${pending.length} pending)`);
  }
}

// ---------------------------------------------------------------------------------------

async function startService(label, start) {
  const service = await start();
  services.push(service);
  log(`${label} at ${service.url}`);
  return service.url;
}

/** Forks `server.mjs <name> <port>` and waits for it to listen (or report itself pending). */
async function startServer(name, env) {
  const port = await freePort();
  const base = name.replace(/\+patched$/, '');
  const childEnv = base === name ? env : { ...env, SOJOURN_DIST: patchedDist };
  const child = fork(SERVER, [base, String(port)], { env: childEnv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const message = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited with code ${code} before listening`)));
    child.once('error', reject);
  });
  if (message.pending) {
    children.delete(child);
    log(`${name}: pending (${message.pending})`);
    return { name, pending: message.pending };
  }
  child.removeAllListeners('exit');
  child.once('exit', (code) => {
    if (children.has(child)) log(`${name} exited unexpectedly (code ${code})`);
  });
  return { name, child, url: `http://127.0.0.1:${port}` };
}

/** Creates the variant's sessions and checks that one of them reads back through `/`. */
async function prepare(server) {
  const cookies = [];
  for (let i = 0; i < config.sessions; i++) {
    const response = await fetch(`${server.url}/login`);
    if (response.status !== 200) throw new Error(`${server.name}: /login answered ${response.status}`);
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0];
    if (!cookie) throw new Error(`${server.name}: /login set no cookie`);
    cookies.push(cookie);
  }
  const check = await fetch(`${server.url}/`, { headers: { cookie: cookies[0] } });
  const body = await check.text();
  if (check.status !== 200 || body !== '1' || check.headers.has('set-cookie')) {
    throw new Error(`${server.name}: a read with a valid session answered ${check.status} ${JSON.stringify(body)}${check.headers.has('set-cookie') ? ' with a Set-Cookie' : ''}`);
  }
  // One prebuilt request per session: each connection cycles through them (no per-request setup cost).
  server.requests = cookies.map((cookie) => ({ method: 'GET', path: '/', headers: { cookie } }));
}

/** The server process's CPU time so far, in µs (user + system). */
function serverCpu(server) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (!message?.cpu) return;
      server.child.off('message', onMessage);
      resolve(message.cpu.user + message.cpu.system);
    };
    server.child.on('message', onMessage);
    server.child.send('cpu');
  });
}

async function load(server, seconds) {
  const cpuBefore = await serverCpu(server);
  const result = await autocannon({
    url: server.url,
    connections: config.connections,
    duration: seconds,
    requests: server.requests,
  });
  const cpu = (await serverCpu(server)) - cpuBefore;
  return {
    cpuPerRequest: cpu / Math.max(1, result.requests.total),
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Per-round ratio of `name` to `base`, median over rounds: by req/s, or by server CPU per request (inverted). */
function ratio(results, name, base, by = 'rps') {
  const a = results.get(name);
  const b = results.get(base);
  if (!a || !b) return undefined;
  return median(a.map((r, i) => (by === 'rps' ? r.rps / b[i].rps : b[i].cpuPerRequest / r.cpuPerRequest)));
}

function report(results, pending) {
  const failures = [];
  const rows = [];
  for (const [name, runs] of results) {
    const bad = runs.reduce((sum, r) => sum + r.bad, 0);
    const total = runs.reduce((sum, r) => sum + r.total, 0);
    if (bad > 0 || total === 0) failures.push(`${name}: ${bad} non-200/errors of ${total}`);
    const vsBare = ratio(results, name, 'bare');
    const cpu = median(runs.map((r) => r.cpuPerRequest));
    const bareCpu = results.has('bare') ? median(results.get('bare').map((r) => r.cpuPerRequest)) : undefined;
    rows.push(`| ${label(name)} | ${fmt(median(runs.map((r) => r.rps)), 0)} | ${fmt(median(runs.map((r) => r.p50)), 0)} | ` +
      `${fmt(median(runs.map((r) => r.p99)), 0)} | ${vsBare === undefined ? '–' : fmt(vsBare, 2)} | ${fmt(cpu, 0)} | ${bareCpu === undefined ? '–' : fmt(bareCpu / cpu, 2)} |`);
  }
  for (const [name, reason] of pending) rows.push(`| ${label(name)} | pending: ${reason} | | | | | |`);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`\n${cpus().length} × ${cpu}, Node ${process.version}; ${config.connections} connections, ` +
    `${config.sessions} sessions, ${config.warmup} s warm-up + ${config.duration} s × ${config.rounds} round(s), medians\n`);
  console.log('| variant | req/s | p50 ms | p99 ms | × bare (req/s) | server CPU µs/req | × bare (CPU) |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
  const targets = TARGETS.flatMap((t) => [t, ...(patchedDist ? [[`${t[0]}+patched`, t[1], t[2]]] : [])]);
  const checks = targets.filter(([a, b]) => results.has(a) && results.has(b));
  if (checks.length > 0 && !smoke) {
    console.log('\ntargets (ratio within each round, median):');
    for (const [a, b, min] of checks) {
      const value = ratio(results, a, b);
      const cpu = ratio(results, a, b, 'cpu');
      console.log(`  ${a} / ${b} = ${fmt(value, 2)} by req/s, ${fmt(cpu, 2)} by server CPU per request ` +
        `(target ≥ ${min}) ${value >= min ? 'ok' : 'MISSED'}`);
    }
    console.log('\nfor reference (same method):');
    for (const [a, b] of REFERENCES.filter(([a, b]) => results.has(a) && results.has(b))) {
      console.log(`  ${a} / ${b} = ${fmt(ratio(results, a, b), 2)} by req/s, ${fmt(ratio(results, a, b, 'cpu'), 2)} by server CPU per request`);
    }
  }
  return failures;
}

function fmt(value, digits) {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function log(message) {
  console.error(`[bench] ${message}`);
}

function stopServers() {
  for (const child of children) {
    children.delete(child);
    child.kill('SIGTERM');
  }
}

async function cleanUp() {
  stopServers();
  const stopped = await Promise.allSettled(services.splice(0).map((service) => service.stop()));
  for (const { reason } of stopped.filter((result) => result.status === 'rejected')) console.error(`[bench] stopping a service failed: ${reason.message}`);
}

// Redis and PostgreSQL go with this process however it ends (test/services/watchdog.mjs).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopServers();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
