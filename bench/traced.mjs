// One variant of bench/server.mjs under a tracer (valgrind, `node --log-ic`), loaded with a fixed
// number of requests rather than for a fixed time: what the tracer counts is then per request.
// Used by bench/instructions.mjs, bench/ics.mjs and bench/allocation.mjs.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, startPostgres, startRedisServer } from '../test/services/index.mjs';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));

/**
 * Starts `command ...args node bench/server.mjs <variant> <port>` (`command` is `node` itself when
 * `args` are node flags), logs 100 sessions in, and hands `run` a `load(amount)` that sends that many
 * requests over `connections`, each with one of the sessions' cookies, and `output()`, the server's
 * stdout so far (where `node --trace-gc` writes); stops the server after.
 */
export async function traced(variant, { command = process.execPath, args = [], env = process.env, connections = 10 }, run) {
  const port = await freePort();
  const argv = command === process.execPath ? [...args, SERVER] : [...args, process.execPath, SERVER];
  const child = spawn(command, [...argv, variant, String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      child.stdout.on('data', (chunk) => (stdout += chunk).includes('"ready"') && resolve());
      child.once('exit', (code) => reject(new Error(`${variant} exited (${code}) before listening:\n${stderr.slice(-2000)}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const cookies = [];
    for (let i = 0; i < 100; i++) cookies.push((await fetch(`${url}/login`)).headers.getSetCookie()[0].split(';')[0]);
    const requests = cookies.map((cookie) => ({ method: 'GET', path: '/', headers: { cookie } }));
    const load = async (amount) => {
      const result = await autocannon({ url, connections, amount, timeout: 120, requests });
      const failed = result.non2xx + result.errors + result.timeouts;
      if (failed > 0) throw new Error(`${variant}: ${failed} failed requests; the server's stderr ends with:\n${stderr.slice(-2000)}`);
    };
    return await run({ load, pid: child.pid, output: () => stdout });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/**
 * `count(variant)` for each variant, two at a time on two cores (what a tracer counts does not
 * depend on what else runs), with Redis and PostgreSQL started first when a variant needs them
 * (their URLs go into `env`, as `npm run bench` passes them).
 */
export async function eachVariant(variants, env, count, label) {
  const services = [];
  const start = async (service) => {
    const started = await service();
    services.push(started);
    return started.url;
  };
  const results = new Map();
  try {
    if (variants.some((v) => /redis|chain/.test(v))) env.BENCH_REDIS_URL = await start(startRedisServer);
    if (variants.some((v) => /chain/.test(v))) env.BENCH_PG_URL = await start(startPostgres);
    const queue = [...variants];
    const workers = Array.from({ length: Math.min(queue.length, Math.max(1, cpus().length)) }, async () => {
      for (let variant = queue.shift(); variant !== undefined; variant = queue.shift()) {
        results.set(variant, await count(variant));
        console.error(`[${label}] ${variant} done`);
      }
    });
    await Promise.all(workers);
  } finally {
    await Promise.all(services.map((service) => service.stop()));
  }
  return results;
}
