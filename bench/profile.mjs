// Profiles one variant under load and prints self time by function:
//   node bench/profile.mjs [variant=sojourn] [seconds=10] [--top 40]
//   node bench/profile.mjs --summary FILE.cpuprofile [--top 40]
// Runs `node --cpu-prof bench/server.mjs <variant> <port>`, creates 100 sessions, loads `/` with
// autocannon (50 connections, round-robin cookies), stops the server with SIGTERM (so it writes
// the profile) and summarises it: self time per function, and per file (node internals, express,
// sojourn, cookie-signature…).
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort, startRedisServer } from '../test/services/index.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { summary: { type: 'string' }, top: { type: 'string', default: '40' } },
});
const top = Number(values.top);
let requestsServed; // known when this script ran the load: self time is then also shown per request

if (values.summary) {
  summarise(values.summary);
} else {
  const [variant = 'sojourn', seconds = '10'] = positionals;
  const file = await profile(variant, Number(seconds));
  console.log(`profile: ${file}\n`);
  summarise(file);
}

async function profile(variant, seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'sojourn-prof-'));
  const redis = /redis|chain/.test(variant) ? await startRedisServer() : undefined;
  const port = await freePort();
  const child = fork(fileURLToPath(new URL('./server.mjs', import.meta.url)), [variant, String(port)], {
    execArgv: ['--cpu-prof', '--cpu-prof-dir', dir],
    env: { ...process.env, NODE_ENV: 'development', ...(redis && { BENCH_REDIS_URL: redis.url }) },
  });
  try {
    const message = await new Promise((resolve) => child.once('message', resolve));
    if (message.pending) throw new Error(`${variant} is pending: ${message.pending}`);
    const url = `http://127.0.0.1:${port}`;
    const requests = [];
    for (let i = 0; i < 100; i++) {
      const cookie = (await fetch(`${url}/login`)).headers.getSetCookie()[0]?.split(';')[0];
      requests.push({ method: 'GET', path: '/', headers: cookie ? { cookie } : {} });
    }
    const result = await autocannon({ url, connections: 50, duration: seconds, requests });
    console.log(`${variant}: ${Math.round(result.requests.average)} req/s under the profiler, ${result.non2xx} non-200`);
    requestsServed = result.requests.total + 101; // + the logins and the check
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    await redis?.stop();
  }
  const name = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return join(dir, name);
}

function summarise(file) {
  const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const self = new Map();
  timeDeltas.forEach((delta, i) => self.set(samples[i], (self.get(samples[i]) ?? 0) + delta));
  let total = 0;
  const byFunction = new Map();
  const byFile = new Map();
  for (const [id, micros] of self) {
    const { callFrame } = byId.get(id);
    total += micros;
    const where = shortUrl(callFrame.url);
    const key = `${callFrame.functionName || '(anonymous)'}  ${where}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const group = groupOf(callFrame);
    byFile.set(group, (byFile.get(group) ?? 0) + micros);
  }
  const busy = total - (byFunction.get('(idle)  ') ?? 0);
  if (requestsServed) console.log(`busy ${(busy / 1000).toFixed(0)} ms for ${requestsServed} requests: ${(busy / requestsServed).toFixed(1)} µs/request\n`);
  print('self time by group (share of busy time)', byFile, busy, top);
  print('self time by function (share of busy time)', byFunction, busy, top);
}

function print(title, map, busy, limit) {
  console.log(`${title}:`);
  const rows = [...map].filter(([key]) => !key.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, limit);
  for (const [key, micros] of rows) {
    const perRequest = requestsServed ? `${(micros / requestsServed).toFixed(2).padStart(7)} µs/req  ` : '';
    console.log(`  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${perRequest}${key}`);
  }
  console.log('');
}

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/(dist|bench)\//, '$1/');
}

function groupOf({ url, functionName }) {
  if (!url) return functionName === '(garbage collector)' ? '(gc)' : functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/dist/')) return 'sojourn (dist)';
  return shortUrl(url);
}
