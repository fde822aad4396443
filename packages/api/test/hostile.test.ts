/**
 * Hostile but well-formed clients against the real server on PostgreSQL (issue 10): each attack is refused cheaply
 * and the server keeps answering others meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/index.ts';
import { fragmentBomb } from './attacks.ts';
import { gql, type Seeded, seededDatabase, silentLogger } from './fixtures.ts';

describe('hostile queries on PostgreSQL', () => {
  let seeded: Seeded;
  let server: RunningServer;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    server = await startServer({ db: seeded.db, port: 0, logger: silentLogger, pollMs: 500 });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it('refuses the 2ⁿ fragment document (n = 29, 60) before running it, and answers /health meanwhile', async () => {
    for (const n of [29, 60]) {
      const [bomb, health] = await Promise.all([
        gql(server.url, fragmentBomb(n)),
        fetch(`${server.url}/health`),
      ]);
      expect(bomb.status).toBe(400);
      expect(bomb.data).toBeNull();
      expect(bomb.errors?.[0]?.extensions).toMatchObject({
        code: 'GRAPHQL_VALIDATION_FAILED',
        limit: 'cost',
      });
      expect(health.status).toBe(200);
    }
    // and an ordinary query still works afterwards
    const ok = await gql(server.url, '{ movie(id: "1") { title } }');
    expect(ok.data).toEqual({ movie: { title: expect.any(String) } });
  });
});
