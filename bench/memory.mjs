// Memory of live sessions: `node --expose-gc bench/memory.mjs [--count 1000000] [--lru-max 10000]`
// Creates `count` anonymous sessions through the manager's createAnonymousSession() (memory store
// + a bounded LRU: the default set-up), and reports heapUsed after a full GC before and after,
// per session. Then shows the LRU kept its bound: it still answers the newest `lru-max` sessions
// and has evicted everything older (the store still has them all).
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

if (typeof globalThis.gc !== 'function') {
  console.error('run with: node --expose-gc bench/memory.mjs');
  process.exit(2);
}
const { values } = parseArgs({
  options: { count: { type: 'string', default: '1000000' }, 'lru-max': { type: 'string', default: '10000' } },
});
const count = Number(values.count);
const lruMax = Number(values['lru-max']);
const dist = process.env.SOJOURN_DIST ?? fileURLToPath(new URL('../dist/', import.meta.url));
const { createSessionManager, memoryStore, lruCache } = await import(pathToFileURL(join(dist, 'index.js')).href);

const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

const store = memoryStore();
const lru = lruCache({ max: lruMax });
const manager = createSessionManager({ store, cache: lru, cleanupInterval: false, secret: 'memory-bench-secret' });

const before = heap();
const started = performance.now();
const ids = [];
const keep = new Set([0, count - lruMax - 1, count - lruMax, count - 1]);
for (let i = 0; i < count; i++) {
  const { session } = await manager.createAnonymousSession();
  if (keep.has(i)) ids[i] = session.id;
}
const seconds = (performance.now() - started) / 1000;
const after = heap();

const perSession = (after - before) / count;
console.log(`${count.toLocaleString('en-US')} sessions via manager.createAnonymousSession() in ${seconds.toFixed(1)} s ` +
  `(${Math.round(count / seconds).toLocaleString('en-US')}/s); memory store + lruCache({ max: ${lruMax} })`);
console.log(`heapUsed after GC: ${mb(before)} → ${mb(after)}: ${mb(after - before)}, ${Math.round(perSession)} bytes per session ` +
  `(record, user/order/expiry indexes; the LRU's ${lruMax.toLocaleString('en-US')} entries included)`);
console.log(`rss: ${mb(process.memoryUsage().rss)}`);

// The LRU's bound: the newest `lruMax` sessions are cached, the one just before them and the first are not.
const cached = (i) => lru.get(ids[i]) !== undefined;
const inStore = async (i) => (await store.get(ids[i])) !== undefined;
const checks = {
  'newest session cached': cached(count - 1),
  [`the oldest of the newest ${lruMax.toLocaleString('en-US')} cached`]: cached(count - lruMax),
  [`the session just older than the newest ${lruMax.toLocaleString('en-US')} evicted`]: !cached(count - lruMax - 1),
  'first session evicted': !cached(0),
  'first session still in the store': await inStore(0),
};
for (const [check, ok] of Object.entries(checks)) console.log(`  ${ok ? 'ok ' : 'FAIL'} ${check}`);
if (!Object.values(checks).every(Boolean)) process.exitCode = 1;
await manager.close();
