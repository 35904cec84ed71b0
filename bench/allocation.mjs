// Heap allocated per request, by variant: `node bench/allocation.mjs [--requests 100000] [variant ...]`
// (default: bare noop sojourn; variants that need Redis or PostgreSQL are not started here). Runs `node --trace-gc bench/server.mjs <variant>`, warms it up,
// loads `/` with a fixed number of requests and adds up what each scavenge found allocated
// since the previous one (heap before it minus heap after the previous one). A count, not a
// time: it is the same from run to run on a machine whose speed is not (see README, Benchmarks).
import { parseArgs } from 'node:util';
import { traced } from './traced.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: 'string', default: '100000' } } });
const requests = Number(values.requests);
const SCAVENGE = /Scavenge\S*\s+([\d.]+) \([\d.]+\) -> ([\d.]+) \(/;

for (const variant of positionals.length > 0 ? positionals : ['bare', 'noop', 'sojourn']) {
  const { bytes, scavenges } = await measure(variant);
  console.log(`${variant.padEnd(14)} ${Math.round(bytes / requests).toLocaleString('en-US').padStart(7)} bytes per request (${scavenges} scavenges over ${requests.toLocaleString('en-US')} requests)`);
}

async function measure(variant) {
  const env = { ...process.env, NODE_ENV: 'development' };
  return traced(variant, { args: ['--trace-gc'], env, connections: 50 }, async ({ load, output }) => {
    await load(Math.min(requests, 20_000)); // warm-up: optimised code, steady heap
    const from = output().length;
    await load(requests);
    let bytes = 0;
    let scavenges = 0;
    let after;
    for (const line of output().slice(from).split('\n')) {
      const match = SCAVENGE.exec(line);
      if (!match) continue;
      scavenges++;
      if (after !== undefined) bytes += (Number(match[1]) - after) * 1024 * 1024;
      after = Number(match[2]);
    }
    return { bytes, scavenges };
  });
}
