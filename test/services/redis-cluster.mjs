// A throwaway Redis Cluster: 3 masters with 1 replica each (6 foreground redis-servers), made by
// `redis-cli --cluster create`, ready once every node has cluster_state:ok, every slot is served
// and every replica is in sync (an unsynced replica cannot be promoted).
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchRedis } from './redis.mjs';
import { parseInfo, redisCommand } from './resp.mjs';
import { parseClusterNodes } from './cluster-nodes.mjs';
import { findOrInstall, freePorts, waitFor } from './system.mjs';
import { serviceDir } from './watchdog.mjs';

const MASTERS = 3;
const NODES = MASTERS * 2;
const SLOTS = 16_384;
/** Short, so a killed master's replica takes over within a few seconds. */
const NODE_TIMEOUT_MS = 2_000;
const run = promisify(execFile);

export async function startRedisCluster() {
  const redisCli = await findOrInstall('redis-cli', 'redis-server', 'Install Redis (Debian/Ubuntu: `sudo apt-get install -y redis-server`).');
  const dir = serviceDir('redis-cluster');
  const nodes = [];
  const cluster = clusterHandle(dir, nodes);
  try {
    // Data and cluster-bus ports chosen apart: the default bus port (port + 10000) may be taken or above 65535.
    const ports = await freePorts(NODES * 2);
    const launched = await Promise.allSettled(ports.slice(0, NODES).map((port, i) => launchNode(dir, port, ports[NODES + i])));
    nodes.push(...launched.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])));
    const failed = launched.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run(redisCli, ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 60_000 }).catch((error) => {
      throw new Error(`redis-cli --cluster create failed: ${error.stdout}${error.stderr}`, { cause: error });
    });
    await cluster.waitUntilHealthy(30_000);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------

async function launchNode(dir, port, busPort) {
  const nodeDir = join(dir, `node-${port}`);
  mkdirSync(nodeDir);
  // A replica's first sync otherwise waits 5 s for more replicas to share it: 8.2 s to ready instead of 2.5 s.
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(NODE_TIMEOUT_MS),
    '--cluster-port', String(busPort), '--repl-diskless-sync-delay', '0'];
  const { process } = await launchRedis(nodeDir, port, args);
  return { host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, pid: process.pid, process };
}

function clusterHandle(dir, nodes) {
  const running = () => nodes.filter((node) => node.process.running);
  const anyRunning = () => {
    const [node] = running();
    if (!node) throw new Error('every node of the cluster is stopped');
    return node;
  };
  const nodeAt = (port) => {
    const node = nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  };
  /** The cluster's view from the first running node, each entry with our pid and whether it still runs. */
  const topology = async () => {
    const text = await redisCommand(anyRunning().port, ['CLUSTER', 'NODES']);
    return parseClusterNodes(text).map((entry) => {
      const node = nodes.find((n) => n.port === entry.port);
      return { host: '127.0.0.1', url: `redis://127.0.0.1:${entry.port}`, pid: node?.pid, running: node?.process.running ?? false, ...entry };
    });
  };
  let stopped;
  return {
    get nodes() {
      return nodes.map(({ host, port, url, pid }) => ({ host, port, url, pid }));
    },
    dir,
    topology,
    async masterFor(keyOrSlot) {
      const slot = typeof keyOrSlot === 'number' ? keyOrSlot : await redisCommand(anyRunning().port, ['CLUSTER', 'KEYSLOT', keyOrSlot]);
      const view = await topology();
      return view.find((n) => n.role === 'master' && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to));
    },
    kill: (port) => nodeAt(port).process.kill('SIGKILL'),
    waitUntilHealthy: (timeoutMs = 15_000) =>
      waitFor(() => isHealthy(running()), timeoutMs,
        `the Redis Cluster in ${dir} was not healthy within ${timeoutMs} ms (cluster_state:ok, every slot served, replicas in sync, one view of who is who)`),
    stop: () =>
      (stopped ??= Promise.all(nodes.map((node) => node.process.kill('SIGKILL'))).then(() => rmSync(dir, { recursive: true, force: true }))),
  };
}

/** Every node says cluster_state:ok with every slot served, its replication link is up, and all see the same roles. */
async function isHealthy(nodes) {
  try {
    const views = await Promise.all(nodes.map(nodeView));
    return views.every(Boolean) && new Set(views).size === 1;
  } catch {
    return false; // not answering yet
  }
}

/** The node's view of the roles when it is healthy itself, else undefined. */
async function nodeView(node) {
  const cluster = parseInfo(await redisCommand(node.port, ['CLUSTER', 'INFO']));
  if (cluster.cluster_state !== 'ok' || Number(cluster.cluster_slots_ok) !== SLOTS) return undefined;
  const replication = parseInfo(await redisCommand(node.port, ['INFO', 'replication']));
  if (replication.role !== 'master' && replication.master_link_status !== 'up') return undefined;
  const entries = parseClusterNodes(await redisCommand(node.port, ['CLUSTER', 'NODES']));
  return entries.map((n) => `${n.id} ${n.role} ${n.masterId} ${n.failed} ${JSON.stringify(n.slots)}`).sort().join('\n');
}
