// Heap allocated per request, by variant: `node bench/allocation.mjs [--requests 100000] [variant ...]`
// (default: bare noop sojourn; variants that need Redis or PostgreSQL are not started here). Runs `node --trace-gc bench/server.mjs <variant>`, warms it up,
// loads `/` with a fixed number of requests and adds up what each scavenge found allocated
// since the previous one (heap before it minus heap after the previous one). A count, not a
// time: it is the same from run to run on a machine whose speed is not (see README, Benchmarks).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from './services.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: 'string', default: '100000' } } });
const requests = Number(values.requests);
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const SCAVENGE = /Scavenge\S*\s+([\d.]+) \([\d.]+\) -> ([\d.]+) \(/;

for (const variant of positionals.length > 0 ? positionals : ['bare', 'noop', 'sojourn']) {
  const { bytes, scavenges } = await measure(variant);
  console.log(`${variant.padEnd(14)} ${Math.round(bytes / requests).toLocaleString('en-US').padStart(7)} bytes per request (${scavenges} scavenges over ${requests.toLocaleString('en-US')} requests)`);
}

async function measure(variant) {
  const port = await freePort();
  const child = fork(SERVER, [variant, String(port)], {
    execArgv: ['--trace-gc'],
    env: { ...process.env, NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  let trace = '';
  child.stdout.on('data', (chunk) => (trace += chunk));
  try {
    const message = await new Promise((resolve) => child.once('message', resolve));
    if (!message.ready) throw new Error(`${variant}: ${message.pending ?? 'did not start'}`);
    const url = `http://127.0.0.1:${port}`;
    const cookies = [];
    for (let i = 0; i < 100; i++) cookies.push((await fetch(`${url}/login`)).headers.getSetCookie()[0].split(';')[0]);
    const load = (amount) => autocannon({ url, connections: 50, amount, requests: cookies.map((cookie) => ({ method: 'GET', path: '/', headers: { cookie } })) });
    await load(Math.min(requests, 20_000)); // warm-up: optimised code, steady heap
    const from = trace.length;
    const result = await load(requests);
    if (result.non2xx + result.errors > 0) throw new Error(`${variant}: ${result.non2xx + result.errors} failed requests`);
    let bytes = 0;
    let scavenges = 0;
    let after;
    for (const line of trace.slice(from).split('\n')) {
      const match = SCAVENGE.exec(line);
      if (!match) continue;
      scavenges++;
      if (after !== undefined) bytes += (Number(match[1]) - after) * 1024 * 1024;
      after = Number(match[2]);
    }
    return { bytes, scavenges };
  } finally {
    child.kill();
  }
}
