/**
 * Steady traffic for the fault tests: a bounded number of workers on loopback, each looping over
 * a read (GET /me with a known token), a write (POST /data/:key) and now and then a login, until
 * told to stop. Outcomes are counted per phase; every acknowledged write is remembered, so a test
 * can check afterwards that none was lost.
 */
import { bearer, login, type Node } from './fleet.js';

export interface Outcomes {
  requests: number;
  ok: number;
  unavailable: number; // 503 SessionStoreError through the framework
  otherErrors: number; // any other status >= 400
  networkErrors: number; // connection refused / reset: the app crashed or hung up
  /** 200 to a read with a valid token but no user: a silently empty session. */
  silentlyEmpty: number;
}

export interface Load {
  phase: string;
  readonly byPhase: Record<string, Outcomes>;
  /** `token -> key -> value` of every write answered `written: true`. */
  readonly acknowledged: Map<string, Map<string, number>>;
  readonly tokens: string[];
  stop(): Promise<void>;
}

export async function startLoad(nodes: Node[], { workers = 8, sessions = 40, loginEvery = 20 } = {}): Promise<Load> {
  const tokens = await Promise.all(Array.from({ length: sessions }, (_, i) => login(nodes[i % nodes.length]!, `load-${i}`)));
  const users = new Map(tokens.map((token, i) => [token, `load-${i}`]));
  const acknowledged = new Map<string, Map<string, number>>();
  const byPhase: Record<string, Outcomes> = {};
  let running = true;
  let counter = 0;
  const load: Load = {
    phase: 'before',
    byPhase,
    acknowledged,
    tokens,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
  const outcome = () => (byPhase[load.phase] ??= { requests: 0, ok: 0, unavailable: 0, otherErrors: 0, networkErrors: 0, silentlyEmpty: 0 });
  async function one(worker: number): Promise<void> {
    const n = counter++;
    const node = nodes[n % nodes.length]!;
    const token = tokens[(n * 7 + worker) % tokens.length]!;
    const kind = n % loginEvery === 0 ? 'login' : n % 2 === 0 ? 'read' : 'write';
    // Counted in the phase the answer arrives in: a request in flight when the server dies belongs to the outage.
    let o = outcome();
    try {
      const answer =
        kind === 'login'
          ? await node.http.send('POST', '/login', {}, { user: `fresh-${n}` })
          : kind === 'read'
            ? await node.http.send('GET', '/me', bearer(token))
            : await node.http.send('POST', `/data/w${n}`, bearer(token), { value: n });
      o = outcome();
      o.requests++;
      if (answer.status === 200) {
        o.ok++;
        const body = JSON.parse(answer.body);
        if (kind === 'read' && body.user?.id !== users.get(token)) o.silentlyEmpty++;
        if (kind === 'write' && body.written === true) {
          let writes = acknowledged.get(token);
          if (!writes) acknowledged.set(token, (writes = new Map()));
          writes.set(`w${n}`, n);
        }
      } else if (answer.status === 503) o.unavailable++;
      else o.otherErrors++;
    } catch {
      o = outcome();
      o.requests++;
      o.networkErrors++;
    }
  }
  const loops = Array.from({ length: workers }, async (_, worker) => {
    while (running) await one(worker);
  });
  return load;
}
