/**
 * Session logs kept in PostgreSQL: the table made by the migration, a row per closed session with
 * the route's overrides applied, never a token, and rows past `retention` deleted in batches by the
 * expired-session cleanup.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionMiddleware, type SessionManager } from '../../lib/index.js';
import { postgresLogSink } from '../../lib/postgres.js';
import { cookieValue, setCookieOf } from '../helpers/http.js';
import { sharedPool, uniqueTable } from '../helpers/postgres.js';
import { TEST_SECRET } from '../helpers/records.js';

const DAY = 86_400_000;
const managers: SessionManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
});

async function rows(table: string) {
  return (await sharedPool().query(`SELECT kind, route, user_id, outcome, entries, session_id::text AS session_id, duration_ms FROM "${table}" ORDER BY id`)).rows;
}

describe('postgresLogSink', () => {
  it("writes each closed session's log after close, with the per-route override applied, and never the token", async () => {
    const table = uniqueTable('logs');
    const sink = postgresLogSink(sharedPool(), { table });
    await sink.migrate();
    let now = Date.UTC(2030, 0, 1);
    const middleware = sessionMiddleware({
      secret: TEST_SECRET,
      clock: () => now,
      cleanupInterval: false,
      logs: { sink, logAll: false, routes: { 'POST /checkout': { logAll: true, level: 'debug' } } },
    });
    managers.push(middleware.manager);
    const app = express();
    app.use(middleware);
    app.post('/checkout', async (req, res) => {
      await req.session.authenticate({ id: 'ann' }, 'password');
      req.session.log('charged', { level: 'debug', meta: { amount: 42 } });
      res.end();
    });
    app.get('/browse', (req, res) => {
      req.session.log('looked', { level: 'debug' });
      res.end();
    });
    const checkout = await request(app).post('/checkout').expect(200);
    await request(app).get('/browse').expect(200);
    const token = cookieValue(setCookieOf(checkout)!);
    await expect.poll(async () => (await rows(table)).length).toBe(1);
    const [row] = await rows(table);
    expect(row).toMatchObject({ kind: 'request', route: 'POST /checkout', user_id: 'ann', outcome: 'ok' });
    expect(row.entries).toEqual([expect.objectContaining({ level: 'debug', message: 'charged', meta: { amount: 42 } })]);
    expect(row.session_id).toBe(token.slice(0, 36));
    expect(JSON.stringify(row)).not.toContain(token.slice(37, 80));
    now += DAY;
  });

  it('retention: the cleanup deletes rows older than it, in batches, and keeps the rest', async () => {
    const table = uniqueTable('logs');
    const sink = postgresLogSink(sharedPool(), { table, retention: '30d', createTable: true });
    const now = Date.UTC(2030, 0, 1);
    await sink.migrate();
    await sharedPool().query(
      `INSERT INTO "${table}" (logged_at, started_at, kind, duration_ms, outcome, open, entries)
       SELECT to_timestamp(($1::float8 - (g % 60)::float8 * 86400000) / 1000), to_timestamp($1::float8 / 1000), 'request', 1, 'ok', false, '[]'
       FROM generate_series(1, 12000) AS g`,
      [now],
    );
    const old = (await sharedPool().query(`SELECT count(*)::int AS n FROM "${table}" WHERE logged_at < to_timestamp($1::float8 / 1000)`, [now - 30 * DAY])).rows[0].n;
    const middleware = sessionMiddleware({ secret: TEST_SECRET, clock: () => now, cleanupInterval: false, logs: { sink } });
    managers.push(middleware.manager);
    await middleware.manager.cleanExpiredSessions();
    const left = (await sharedPool().query(`SELECT count(*)::int AS n, min(logged_at) AS oldest FROM "${table}"`)).rows[0];
    expect(old).toBeGreaterThan(5_000); // more than one batch of 5,000
    expect(left.n).toBe(12_000 - old);
    expect(new Date(left.oldest).getTime()).toBeGreaterThanOrEqual(now - 30 * DAY);
  });

  it('validates its options, naming them', () => {
    expect(() => postgresLogSink({} as never)).toThrow(/postgresLogSink\.pool/);
    expect(() => postgresLogSink(sharedPool(), { retention: 'forever' as never })).toThrow(/postgresLogSink\.retention/);
    expect(() => postgresLogSink(sharedPool(), { table: 'bad name' })).toThrow(/table/);
  });
});
