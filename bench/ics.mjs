// Inline-cache misses per request, by variant and by property, from V8's own log:
//   node bench/ics.mjs [--requests 2000] [--warmup 20000] [variant ...]   (default: bare noop lookup sojourn)
// Each variant runs under `node --log-ic`; after a warm-up, a signal makes the server leave a mark
// in V8's log (see bench/server.mjs), then a fixed number of requests is loaded and the IC events
// logged after the mark are counted.
//
// Why: Express re-parents every request and response (`Object.setPrototypeOf`), so each one has a
// hidden class V8 has not seen, and every property read or write on it misses the inline cache
// and V8's stub cache and runs V8's lookup in C++ (about 2,000 instructions each, see
// bench/instructions.mjs --keep). A CPU profile books that to V8's runtime, not to the line that
// touched `req` or `res`; this names the property and its line:column. Each variant is compared
// with the one before it in the list: what it adds.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { eachVariant, traced } from './traced.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { requests: { type: 'string', default: '2000' }, warmup: { type: 'string', default: '20000' } },
});
const requests = Number(values.requests);
const variants = positionals.length > 0 ? positionals : ['bare', 'noop', 'lookup', 'sojourn'];
const env = { ...process.env, NODE_ENV: 'development' };

const results = await eachVariant(variants, env, count, 'ics');

console.log(`\ninline-cache misses per request (node --log-ic; ${Number(values.warmup).toLocaleString('en-US')} warm-up, then ${requests.toLocaleString('en-US')} counted requests)\n`);
for (const [i, variant] of variants.entries()) {
  const sites = results.get(variant);
  const total = sum(sites);
  if (i === 0) {
    console.log(`${variant}: ${total.toFixed(1)}`);
    continue;
  }
  const before = results.get(variants[i - 1]);
  const added = [...new Set([...sites.keys(), ...before.keys()])]
    .map((site) => [site, (sites.get(site) ?? 0) - (before.get(site) ?? 0)])
    .filter(([, n]) => Math.abs(n) >= 0.1)
    .sort((a, b) => b[1] - a[1]);
  console.log(`\n${variant}: ${total.toFixed(1)} (${(total - sum(before)).toFixed(1)} against ${variants[i - 1]})`);
  for (const [site, n] of added) console.log(`  ${n > 0 ? '+' : ''}${n.toFixed(2)}  ${site}`);
}

async function count(variant) {
  const log = join(tmpdir(), `sojourn-ics-${process.pid}-${variant}.log`);
  try {
    await traced(variant, { args: ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate'], env }, async ({ load, pid }) => {
      await load(Number(values.warmup));
      process.kill(pid, 'SIGUSR2');
      await sleep(200);
      await load(requests);
    });
    return misses(readFileSync(log, 'utf8'));
  } finally {
    rmSync(log, { force: true });
  }
}

/** IC events after the mark, per request, by kind, property and line:column (of whichever script: the log does not say which, the property tells). */
function misses(text) {
  const lines = text.split('\n');
  const mark = lines.findIndex((line) => /IC,.*sojourn:ics-mark/.test(line));
  if (mark < 0) throw new Error('no mark in the IC log: did the server get SIGUSR2?');
  const sites = new Map();
  for (const line of lines.slice(mark + 1)) {
    const fields = line.split(',');
    if (!/^(Keyed)?(Load|Store)(Global)?IC$/.test(fields[0])) continue;
    const site = `${fields[0]} ${fields[8].replace(/ hash [0-9a-f]+/, '')} ${fields[3]}:${fields[4]}`;
    sites.set(site, (sites.get(site) ?? 0) + 1 / requests);
  }
  return sites;
}

function sum(sites) {
  return [...sites.values()].reduce((a, b) => a + b, 0);
}
