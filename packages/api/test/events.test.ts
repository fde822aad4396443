/**
 * Two API processes' worth of servers on one PostgreSQL with the poll turned almost off (60 s): a rating through one
 * and an activation reach the other by LISTEN/NOTIFY alone; when the listening connection is cut, the poll takes over.
 */
import { activateModelVersion, EVENTS_CHANNEL, saveModel } from '@movierec/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/index.ts';
import { createLogger } from '../src/logger.ts';
import { gql, type Seeded, seededDatabase, serveSeeded, trainAls } from './fixtures.ts';

describe('pushed events between replicas (PostgreSQL LISTEN/NOTIFY)', () => {
  let seeded: Seeded;
  let a: RunningServer;
  let b: RunningServer;
  const lags: { kind: string; ms: number }[] = [];

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    a = await serveSeeded(seeded, { pollMs: 60_000 });
    b = await serveSeeded(seeded, { pollMs: 60_000, onEventLag: (kind, ms) => lags.push({ kind, ms }) });
    for (let t = 0; t < 200 && !(a.service.listening && b.service.listening); t++)
      await new Promise((done) => setTimeout(done, 50));
  }, 60_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await seeded?.db.close();
  });

  const recs = (url: string, userId: string) =>
    gql(url, `{ recommendations(userId: "${userId}", limit: 5) { source modelVersion { id } } }`);
  const rate = (url: string, userId: string, movieId: string) =>
    gql(
      url,
      `mutation { rateMovie(userId: "${userId}", movieId: "${movieId}", rating: 5) { foldedInRatings } }`,
    );

  it('a rating through one replica changes the other replica’s recommendations without a poll', async () => {
    expect(a.service.listening && b.service.listening).toBe(true);
    const userId = `pushed-${Date.now()}`;
    // b loads and caches the (unknown) user first, so only an event can make it look again
    expect((await recs(b.url, userId)).data!.recommendations.source).toBe('POPULARITY');
    expect((await rate(a.url, userId, '1')).errors).toBeUndefined();
    await expect
      .poll(async () => (await recs(b.url, userId)).data!.recommendations.source, {
        timeout: 5_000,
        interval: 20,
      })
      .toBe('PERSONALIZED');
    expect(lags.some((l) => l.kind === 'rating')).toBe(true);
  }, 30_000);

  it('an activation reaches every replica without a poll', async () => {
    const other = await trainAls(seeded.dataset, 4, 2, 11);
    const id = await saveModel(seeded.db, other, { datasetFingerprint: 'events-test', engine: 'als' });
    await activateModelVersion(seeded.db, id);
    for (const server of [a, b])
      await expect
        .poll(async () => (await recs(server.url, '1')).data!.recommendations.modelVersion?.id, {
          timeout: 5_000,
          interval: 20,
        })
        .toBe(String(id));
    expect(lags.some((l) => l.kind === 'activation')).toBe(true);
  }, 60_000);

  it('exposes Prometheus metrics: requests by operation, caches, fold-ins, model, pool, event lag', async () => {
    // one more rating through a (folded in on b by the event), and a repeated query for a response-cache hit
    const userId = `metrics-${Date.now()}`;
    await recs(b.url, userId);
    await rate(a.url, userId, '3');
    await expect
      .poll(async () => (await recs(b.url, userId)).data!.recommendations.source, {
        timeout: 5_000,
        interval: 20,
      })
      .toBe('PERSONALIZED');
    await recs(b.url, userId);
    expect(b.metricsUrl).toBe(`${b.url}/metrics`);
    // the lag is recorded once the poll applying the event has finished (it may trail the user's refresh)
    await expect
      .poll(
        async () =>
          /^movierec_event_lag_seconds_count\{kind="rating"\} [1-9]/m.test(
            await (await fetch(b.metricsUrl)).text(),
          ),
        {
          timeout: 5_000,
        },
      )
      .toBe(true);
    const res = await fetch(b.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const value = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? Number.NaN);
    expect(
      value(/^movierec_graphql_requests_total\{operation="query:recommendations",outcome="ok"\} (\d+)/m),
    ).toBeGreaterThan(0);
    expect(value(/^movierec_cache_requests_total\{cache="response",result="hit"\} (\d+)/m)).toBeGreaterThan(
      0,
    );
    expect(value(/^movierec_cache_requests_total\{cache="user",result="miss"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_fold_ins_total (\d+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^movierec_model_info\{version="\d+"\} 1$/m);
    expect(value(/^movierec_event_lag_seconds_count\{kind="rating"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_events_listening (\d+)/m)).toBe(1);
    expect(value(/^movierec_db_pool_connections\{state="total"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_db_call_duration_seconds_count\{outcome="ok"\} (\d+)/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^movierec_process_resident_memory_bytes \d+/m);
    // the bounded caches report what they hold: the response cache has the repeated query, the user cache the user
    expect(value(/^movierec_cache_bytes\{cache="response"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_cache_entries\{cache="response"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_cache_bytes\{cache="user"\} (\d+)/m)).toBeGreaterThan(0);
    expect(value(/^movierec_cache_entries\{cache="user"\} (\d+)/m)).toBeGreaterThan(0);
  }, 30_000);

  it('serves metrics only on a separate port when one is given', async () => {
    const c = await serveSeeded(seeded, { metricsPort: 0 });
    try {
      expect(c.metricsUrl).not.toBe(`${c.url}/metrics`);
      expect((await fetch(`${c.url}/metrics`)).status).toBe(404);
      const res = await fetch(c.metricsUrl);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^movierec_model_info\{version="\d+"\} 1$/m);
      expect((await fetch(c.metricsUrl.replace('/metrics', '/graphql'))).status).toBe(404);
    } finally {
      await c.close();
    }
  }, 60_000);

  it('ignores a NOTIFY payload that is not ours or is malformed, and logs it once', async () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));
    const c = await startServer({ db: seeded.db, port: 0, logger, pollMs: 60_000 });
    try {
      await expect.poll(() => c.service.listening, { timeout: 10_000 }).toBe(true);
      for (const payload of ['not json', '{"kind":"someone-else"}', '{"rating":', '[1,2,3]'])
        await seeded.db.query(`SELECT pg_notify($1, $2)`, [EVENTS_CHANNEL, payload]);
      // an event of ours after them still arrives: the listener survived the foreign payloads
      const userId = `after-foreign-${Date.now()}`;
      expect((await recs(c.url, userId)).data!.recommendations.source).toBe('POPULARITY');
      expect((await rate(a.url, userId, '3')).errors).toBeUndefined();
      await expect
        .poll(async () => (await recs(c.url, userId)).data!.recommendations.source, { timeout: 5_000 })
        .toBe('PERSONALIZED');
      const warned = lines.filter((l) => l.includes('not ours'));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toContain('not json');
    } finally {
      await c.close();
    }
  }, 60_000);

  it('falls back to polling when the listening connection is cut, and listens again', async () => {
    const c = await serveSeeded(seeded, { pollMs: 100 });
    try {
      await expect.poll(() => c.service.listening, { timeout: 10_000 }).toBe(true);
      // cut every LISTEN connection of this database (a, b and c): the servers fall back, then reconnect
      await seeded.db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      const userId = `fallback-${Date.now()}`;
      expect((await recs(c.url, userId)).data!.recommendations.source).toBe('POPULARITY');
      expect((await rate(a.url, userId, '2')).errors).toBeUndefined();
      // whether by the 100 ms poll (while disconnected) or by the event (after reconnecting), c sees it
      await expect
        .poll(async () => (await recs(c.url, userId)).data!.recommendations.source, { timeout: 10_000 })
        .toBe('PERSONALIZED');
      await expect.poll(() => c.service.listening && b.service.listening, { timeout: 15_000 }).toBe(true);
    } finally {
      await c.close();
    }
  }, 60_000);
});
