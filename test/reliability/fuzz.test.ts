/**
 * Bad input, property-based: every header the middleware parses (Cookie, Authorization), every
 * wrong token shape, forged signatures and secrets, valid-shaped unknown tokens, tokens of
 * destroyed and expired sessions, sent over real HTTP to real Express 4 and 5 and Koa 2 and 3 apps. Per request:
 * no 5xx, no store or cache I/O for malformed input (counted), the right user or none, and no
 * token secret or signing secret in any response body, session log or process warning.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionManager, type SessionManager } from '../../lib/index.js';
import { appOf, FRAMEWORKS, type Framework } from '../frameworks/frameworks.js';
import { countingCache, countingStore, type CountingCache, type CountingStore } from '../helpers/counting.js';
import { client, listen, type Answer, type Client } from './client.js';
import { report, size } from './figures.js';
import { TOKEN_SHAPE, forge, forgeTagged, headerSafe, malformedToken, secretOf, shapedToken, unknownToken } from './tokens.js';

const RUNS = size(150, 3_000);
const SECRET = `fuzz-${randomBytes(24).toString('base64url')}`;
const DAY = 86_400_000;

interface Fixture {
  readonly store: CountingStore;
  readonly cache: CountingCache;
  readonly manager: SessionManager;
  readonly http: Client;
  readonly server: Server;
  /** Session logs and process warnings, as text. */
  readonly lines: string[];
  readonly live: { token: string; user: string }[];
  readonly destroyed: string[];
  readonly expired: string[];
  /** Every token secret handed out or presented: none may be echoed. */
  readonly secrets: Set<string>;
  readonly figures: { requests: number; status: Record<number, number>; malformed: number; malformedStoreCalls: number; malformedCacheCalls: number; unknownReads: number; unknown: number; leaks: number };
}

type Expect =
  | { kind: 'malformed' } // presented, not a token of ours (any shape, or a tag no secret made): no I/O, anonymous, told to forget
  | { kind: 'ignored' } // not ours (another scheme, another cookie): no I/O, anonymous
  | { kind: 'unknown' } // tagged under our secret, no such session: at most one store read, anonymous, told to forget
  | { kind: 'refused' } // destroyed, expired, or another secret under a valid tag: anonymous, told to forget
  | { kind: 'live'; user: string };

describe.each(FRAMEWORKS)('fuzzing $name', (target: Framework) => {
  let f: Fixture;
  beforeAll(async () => {
    f = await fixture(target);
  });
  afterAll(async () => {
    f.http.close();
    await new Promise((resolve) => f.server.close(resolve));
    await f.manager.close();
    report(`fuzz ${target.name}`, {
      requests: f.figures.requests,
      responses5xx: Object.entries(f.figures.status).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0),
      status: f.figures.status,
      malformedRequests: f.figures.malformed,
      storeCallsForMalformed: f.figures.malformedStoreCalls,
      cacheCallsForMalformed: f.figures.malformedCacheCalls,
      unknownRequests: f.figures.unknown,
      storeReadsForUnknown: f.figures.unknownReads,
      logLinesScanned: f.lines.length,
      secretsScanned: f.secrets.size,
      echoes: f.figures.leaks,
    });
  });

  it('Authorization headers: every scheme, spacing and token shape', async () => {
    const scheme = fc.constantFrom('Bearer ', 'bearer ', 'BEARER\t', 'Bearer   ', 'Bearer \t ');
    const otherScheme = fc.constantFrom('', 'Basic ', 'Token ', 'Bearer:', 'Bearer', 'Bearer-', 'Digest ', 'B earer ');
    const pad = fc.constantFrom('', ' ', '\t', '  ');
    const header = fc.oneof(
      fc.tuple(scheme, malformedToken()).map(([s, t]) => ({ value: s + t, expect: presentedOrNot(t), presented: t })),
      fc.tuple(otherScheme, fc.oneof(malformedToken(), shapedToken, liveToken())).map(([s, t]) => ({ value: s + t, expect: ignoredOrMalformed(s, t), presented: t })),
      fc.tuple(scheme, shapedToken, pad).map(([s, t, p]) => ({ value: s + t + p, expect: { kind: 'malformed' } as Expect, presented: t })),
      fc.tuple(scheme, liveToken().map((t) => forge(t))).map(([s, t]) => ({ value: s + t, expect: { kind: 'malformed' } as Expect, presented: t })),
      fc.tuple(scheme, unknownToken(SECRET), pad).map(([s, t, p]) => ({ value: s + t + p, expect: { kind: 'unknown' } as Expect, presented: t })),
      fc.tuple(scheme, refusedToken(), pad).map(([s, t, p]) => ({ value: s + t + p, expect: { kind: 'refused' } as Expect, presented: t })),
      fc.tuple(scheme, fc.nat(), pad).map(([s, i, p]) => {
        const { token, user } = f.live[i % f.live.length]!;
        return { value: s + token + p, expect: { kind: 'live', user } as Expect, presented: token };
      }),
    );
    await fc.assert(
      fc.asyncProperty(header, async ({ value, expect: expected, presented }) => {
        const answer = await send(f, 'GET', '/me', { authorization: value }, expected, presented);
        if (answer.status === 200 && (expected.kind === 'malformed' || expected.kind === 'unknown' || expected.kind === 'refused')) {
          expect(answer.headers['session-token']).toBe(''); // told to forget
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('Cookie headers: many cookies, odd encodings, huge values, forged and wrong-secret tags', async () => {
    const name = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,12}$/), fc.constantFrom('Session', 'session2', 'xsession', 'session_', 'sess', 'connect.sid'));
    const oddValue = fc.oneof(
      { arbitrary: fc.string({ maxLength: 40 }), weight: 4 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(headerSafe), weight: 4 },
      { arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%25', '"quoted"', '"', '=', 'a=b=c', 's:', 's%3A', '\u00e9t\u00e9', '%C3%A9'), weight: 4 },
      { arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n)), weight: 1 }, // past 16 KB Node answers 431
    ).map((v) => v.replace(/;/g, ''));
    const noise = fc.array(fc.tuple(name, oddValue).filter(([n]) => n.trim() !== 'session'), { maxLength: 60 });
    const legacy = fc.constantFrom('', 's:'); // sojourn 0.1 wrote `s:<token>`: still read
    const encode = fc.boolean();
    const session = fc.oneof(
      fc.constant({ value: undefined as string | undefined, expect: { kind: 'ignored' } as Expect, presented: '' }),
      malformedToken().map((t) => ({ value: t.replace(/;/g, ''), expect: presentedOrNot(t.replace(/;/g, '')), presented: t })),
      malformedToken().map((t) => ({ value: `s:${t}`, expect: { kind: 'malformed' } as Expect, presented: t })),
      shapedToken.map((t) => ({ value: t, expect: { kind: 'malformed' } as Expect, presented: t })),
      fc.oneof(unknownToken(SECRET), liveToken()).map((t) => ({ value: `${t.slice(0, 81)}${randomBytes(32).toString('base64').replace(/=+$/, '')}`, expect: { kind: 'malformed' } as Expect, presented: t })),
      fc.tuple(unknownToken(SECRET), legacy).map(([t, prefix]) => ({ value: prefix + t, expect: { kind: 'unknown' } as Expect, presented: t })),
      fc.tuple(refusedToken(), legacy).map(([t, prefix]) => ({ value: prefix + t, expect: { kind: 'refused' } as Expect, presented: t })),
      fc.tuple(fc.nat(), legacy).map(([i, prefix]) => {
        const { token, user } = f.live[i % f.live.length]!;
        return { value: prefix + token, expect: { kind: 'live', user } as Expect, presented: token };
      }),
    );
    const cookieHeader = fc.tuple(noise, session, fc.nat(), encode, fc.constantFrom('; ', ';', ';  ', ' ; ')).map(([pairs, s, at, enc, sep]) => {
      const all = pairs.map(([n, v]) => `${n}=${v}`);
      if (s.value !== undefined) all.splice(at % (all.length + 1), 0, `session=${enc ? encodeURIComponent(s.value) : s.value}`);
      return { value: all.join(sep), expect: s.expect, presented: s.presented };
    });
    await fc.assert(
      fc.asyncProperty(cookieHeader, async ({ value, expect: expected, presented }) => {
        if (value.length === 0) return;
        const answer = await send(f, 'GET', '/me', { cookie: value }, expected, presented);
        if (answer.status === 200 && expected.kind !== 'live' && expected.kind !== 'ignored') {
          expect(answer.headers['set-cookie']?.find((l) => l.startsWith('session=;'))).toBeDefined(); // cleared
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('duplicate session cookies: the first one counts, a later valid one never authenticates a junk first one', async () => {
    const value = fc.oneof(
      malformedToken().map((t) => ({ v: t.replace(/;/g, ''), user: undefined as string | undefined })),
      fc.nat().map((i) => ({ v: f.live[i % f.live.length]!.token, user: f.live[i % f.live.length]!.user })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 2, maxLength: 6 }), async (values) => {
        const cookie = values.map(({ v }) => `session=${encodeURIComponent(v)}`).join('; ');
        const first = values[0]!;
        const expected: Expect = first.user ? { kind: 'live', user: first.user } : { kind: 'refused' };
        await send(f, 'GET', '/me', { cookie }, expected, values.map(({ v }) => v).join(''), first.user === undefined);
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('writes with a bad token start a new anonymous session and never touch a real one', async () => {
    const bad = fc.oneof(
      malformedToken().map((t) => ({ token: t, kind: 'malformed' as const })),
      shapedToken.map((t) => ({ token: t, kind: 'malformed' as const })),
      unknownToken(SECRET).map((t) => ({ token: t, kind: 'unknown' as const })),
      refusedToken().map((t) => ({ token: t, kind: 'refused' as const })),
    );
    await fc.assert(
      fc.asyncProperty(bad, fc.boolean(), async ({ token, kind }, viaCookie) => {
        const headers: Record<string, string> = viaCookie ? { cookie: `session=${encodeURIComponent(token)}` } : { authorization: `Bearer ${token}` };
        const answer = await send(f, 'POST', '/data/k', headers, { kind: 'ignored' }, token, false, { value: 'attacker' });
        if (answer.status === 431) return; // a huge token in a cookie: Node refuses the headers before any app code
        expect(answer.status).toBe(200);
        const body = JSON.parse(answer.body) as { written: boolean; id: string };
        expect(body.written).toBe(true);
        expect(body.id).not.toBe(token.slice(0, 36)); // a new record, never the one the token names
        if (kind === 'malformed') expect(f.store.calls.get).toBe(0);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    // No real session was written to by anyone but its owner.
    for (const { token } of f.live) expect((await f.manager.getSessionFromToken(token))?.data.k).toBeUndefined();
  });

  it('the resolver refuses any string, including ones HTTP cannot carry, without I/O', async () => {
    const before = { store: sum(f.store.calls), cache: f.cache.calls.get };
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 130 }), fc.string({ unit: 'binary', maxLength: 130 }), malformedToken(), shapedToken), async (value) => {
        tried++;
        expect(await f.manager.getSessionFromToken(value)).toBeUndefined();
      }),
      { numRuns: RUNS * 4 },
    );
    expect(sum(f.store.calls) - before.store).toBe(0);
    expect(f.cache.calls.get - before.cache).toBe(0);
    report(`resolver junk ${target.name}`, { tried, storeCalls: 0, cacheCalls: 0 });
  });

  it('real sessions survive the whole run: forged secrets never lock their owner out', async () => {
    for (const { token, user } of f.live) {
      const answer = await f.http.send('GET', '/me', { authorization: `Bearer ${token}` });
      expect(JSON.parse(answer.body).user).toEqual({ id: user });
    }
    // Nothing the fuzzing sent or got back leaked into a log line or warning.
    expect(f.lines.length).toBeGreaterThan(0);
    const leaked = f.lines.filter((line) => line.includes(SECRET) || [...f.secrets].some((s) => line.includes(s)));
    expect(leaked).toEqual([]);
    expect(f.manager.openSessions).toBe(0);
  });

  // -------------------------------------------------------------------------------------

  function liveToken() {
    return fc.nat().map((i) => f.live[i % f.live.length]!.token);
  }

  /** Ours but refused: destroyed, expired, or another secret under a tag made with our secret. */
  function refusedToken() {
    return fc.oneof(
      fc.nat().map((i) => forgeTagged(f.live[i % f.live.length]!.token, SECRET)),
      fc.nat().map((i) => f.destroyed[i % f.destroyed.length]!),
      fc.nat().map((i) => f.expired[i % f.expired.length]!),
    );
  }
});

function ignoredOrMalformed(scheme: string, token: string): Expect {
  return /^Bearer\s/i.test(scheme) ? presentedOrNot(token) : { kind: 'ignored' };
}

/** HTTP trims a header value, and an empty cookie or bearer value is no token at all. */
function presentedOrNot(token: string): Expect {
  return token.trim() === '' || token.trim().replace(/^"|"$/g, '') === '' ? { kind: 'ignored' } : { kind: 'malformed' };
}

/** Sends one request and checks what every request must satisfy. */
async function send(f: Fixture, method: string, path: string, headers: Record<string, string>, expected: Expect, presented: string, countIo = true, body?: unknown): Promise<Answer> {
  f.store.reset();
  f.cache.reset();
  for (const s of [presented, ...(presented.match(/[\w-]{43}/g) ?? [])]) if (s.length >= 24) f.secrets.add(s);
  const answer = await f.http.send(method, path, headers, body);
  f.figures.requests++;
  f.figures.status[answer.status] = (f.figures.status[answer.status] ?? 0) + 1;
  expect(answer.status).toBeLessThan(500);
  // Nothing presented (nor the signing secret) comes back in a body.
  const echoed = answer.body.includes(SECRET) || (presented.length >= 24 && answer.body.includes(presented)) || answer.body.includes(secretOf(presented) || '\u0000');
  if (echoed) f.figures.leaks++;
  expect(echoed).toBe(false);
  if (answer.status === 431) return answer; // Node refused the headers (too large) before any app code
  if (path === '/me') {
    const user = (JSON.parse(answer.body) as { user: { id: string } | null }).user;
    expect(user).toEqual(expected.kind === 'live' ? { id: expected.user } : null);
  }
  if (!countIo) return answer;
  if (expected.kind === 'malformed' || expected.kind === 'ignored') {
    f.figures.malformed++;
    f.figures.malformedStoreCalls += sum(f.store.calls);
    f.figures.malformedCacheCalls += sum(f.cache.calls);
    expect(sum(f.store.calls)).toBe(0);
    expect(f.cache.calls.get).toBe(0);
  }
  if (expected.kind === 'unknown') {
    f.figures.unknown++;
    f.figures.unknownReads += f.store.calls.get;
    expect(f.store.calls.get).toBeLessThanOrEqual(1);
    expect(f.store.calls.create + f.store.calls.update).toBe(0);
  }
  return answer;
}

async function fixture(target: Framework): Promise<Fixture> {
  let now = Date.now();
  const lines: string[] = [];
  const store = countingStore();
  const cache = countingCache();
  const manager = createSessionManager({
    store,
    cache,
    secret: SECRET,
    clock: () => now,
    cleanupInterval: false,
    logs: { sink: (log) => void lines.push(inspect(log, { depth: 8 })), logAll: true, level: 'debug' },
  });
  const onWarning = (warning: Error & { detail?: string }) => lines.push(`${inspect(warning)} ${warning.detail ?? ''}`);
  process.on('warning', onWarning);
  const server = createServer(appOf(manager, target));
  server.on('close', () => process.off('warning', onWarning));
  const http = client(await listen(server));
  const secrets = new Set<string>();

  const expired: string[] = [];
  for (let i = 0; i < 10; i++) expired.push((await manager.createNewAuthenticatedSession({ id: `old-${i}` }, 'password')).token);
  now += 31 * DAY; // every one of them is past its idle expiry now
  const login = async (user: string) => {
    const answer = await http.send('POST', '/login', { 'session-token': '' }, { user }); // asks for the header
    const token = answer.headers['session-token'] as string;
    expect(token).toMatch(TOKEN_SHAPE);
    return token;
  };
  const live = await Promise.all(Array.from({ length: 10 }, async (_, i) => ({ user: `u-${i}`, token: await login(`u-${i}`) })));
  const destroyed = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const token = await login(`gone-${i}`);
      await http.send('POST', '/logout', { authorization: `Bearer ${token}` });
      return token;
    }),
  );
  for (const token of [...expired, ...live.map((l) => l.token), ...destroyed]) secrets.add(secretOf(token));
  return {
    store, cache, manager, http, server, lines, live, destroyed, expired, secrets,
    figures: { requests: 0, status: {}, malformed: 0, malformedStoreCalls: 0, malformedCacheCalls: 0, unknownReads: 0, unknown: 0, leaks: 0 },
  };
}

function sum(calls: Record<string, number>): number {
  return Object.values(calls).reduce((a, b) => a + b, 0);
}
