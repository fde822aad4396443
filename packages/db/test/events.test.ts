/**
 * Pushed events on the real PostgreSQL: the migration's triggers NOTIFY on a rating (users.last_rated_at) and on an
 * activation, the listener parses them, ignores payloads that are not ours, and reconnects when its connection is cut.
 */
import { allocParams } from '@movierec/core';
import { IdMap } from '@movierec/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateModelVersion,
  EVENTS_CHANNEL,
  listenEvents,
  type MovierecEvent,
  parseEvent,
  saveModelVersion,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

function waitFor<T>(check: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((done, fail) => {
    const started = Date.now();
    const tick = () => {
      const v = check();
      if (v !== undefined) done(v);
      else if (Date.now() - started > ms) fail(new Error(`condition not met within ${ms} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('parseEvent', () => {
  it('accepts our two event kinds and refuses everything else', () => {
    expect(parseEvent('{"v":1,"type":"rating","user":"7","at":5}')).toEqual({
      type: 'rating',
      user: '7',
      at: 5,
    });
    expect(parseEvent('{"v":1,"type":"activation","version":3,"at":5}')).toEqual({
      type: 'activation',
      version: '3',
      at: 5,
    });
    for (const bad of [
      undefined,
      '',
      'hello',
      'null',
      '[]',
      '{"v":2,"type":"rating","user":"7","at":5}',
      '{"v":1,"type":"rating","user":"","at":5}',
      '{"v":1,"type":"rating","user":7,"at":5}',
      '{"v":1,"type":"rating","user":"7"}',
      '{"v":1,"type":"drop","at":5}',
      `{"v":1,"type":"rating","user":"${'x'.repeat(9000)}","at":5}`,
    ])
      expect(parseEvent(bad)).toBeNull();
  });
});

describe('LISTEN/NOTIFY on PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
  });

  it('delivers ratings and activations, ignores foreign payloads, and reconnects after a cut', async () => {
    const events: MovierecEvent[] = [];
    const invalid: string[] = [];
    const states: boolean[] = [];
    const listener = await listenEvents(db.url!, {
      onEvent: (e) => events.push(e),
      onInvalid: (p) => invalid.push(p),
      onState: (s) => states.push(s),
    });
    try {
      expect(listener.listening).toBe(true);
      // a rating through the API sets users.last_rated_at (insert and update both notify)
      await db.query(`INSERT INTO users (external_id, last_rated_at) VALUES ('u-1', now())`);
      await db.query(`UPDATE users SET last_rated_at = now() WHERE external_id = 'u-1'`);
      // an import-style insert without last_rated_at sends nothing
      await db.query(`INSERT INTO users (external_id) VALUES ('u-imported')`);
      const ratings = await waitFor(() => {
        const r = events.filter((e) => e.type === 'rating');
        return r.length >= 2 ? r : undefined;
      });
      expect(ratings.map((e) => (e.type === 'rating' ? e.user : ''))).toEqual(['u-1', 'u-1']);
      // a rolled-back transaction notifies nobody
      await db
        .transaction(async (sql) => {
          await sql.query(`UPDATE users SET last_rated_at = now() WHERE external_id = 'u-1'`);
          throw new Error('roll back');
        })
        .catch(() => {});
      // foreign and malformed payloads on our channel
      await db.query(`SELECT pg_notify($1, 'not json')`, [EVENTS_CHANNEL]);
      await db.query(`SELECT pg_notify($1, '{"v":1,"type":"rating"}')`, [EVENTS_CHANNEL]);
      await waitFor(() => (invalid.length >= 2 ? true : undefined));
      expect(events.filter((e) => e.type === 'rating')).toHaveLength(2);

      // an activation (saved inactive, then activated) notifies once, with the version id
      const version = await saveModelVersion(db, {
        params: allocParams(1, 1, 2),
        users: IdMap.fromJSON(['u-1']),
        items: IdMap.fromJSON(['1']),
        engine: 'test',
        config: {},
        datasetFingerprint: 'events-test',
      });
      expect(events.some((e) => e.type === 'activation')).toBe(false);
      await activateModelVersion(db, version);
      const activation = await waitFor(() => events.find((e) => e.type === 'activation'));
      expect(activation).toMatchObject({ type: 'activation', version: String(version) });

      // cut the listening connection from the server side: the listener says so, reconnects and listens again
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
      );
      await waitFor(() => (states.includes(false) ? true : undefined));
      await waitFor(() => (listener.listening ? true : undefined), 10_000);
      expect(states).toEqual([true, false, true]);
      await db.query(`UPDATE users SET last_rated_at = now() WHERE external_id = 'u-1'`);
      await waitFor(() => (events.filter((e) => e.type === 'rating').length >= 3 ? true : undefined));
    } finally {
      await listener.close();
    }
    expect(listener.listening).toBe(false);
  }, 30_000);
});
