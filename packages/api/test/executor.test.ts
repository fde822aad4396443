/**
 * The compiled path answers exactly as the plain one. Two servers on one database: `plain` runs every request through
 * Apollo and graphql-js' execute (compile: false); `compiled` is the default but for compiling sooner — a document's
 * first request through Apollo and graphql-js, its second compiled by graphql-jit (compile: { after: 1 }; by default
 * after 40 runs), and a query Apollo has validated answered on the HTTP fast path without Apollo's pipeline. Every
 * request below is sent once to `plain` and three times to `compiled`, and
 * the status, content type, cache-control and the response bytes must be the same each time: data, errors (their
 * messages, paths, locations, codes), auth refusals, the budget and the static limits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type RunningServer, startServer } from '../src/index.ts';
import { type Seeded, seededDatabase, silentLogger } from './fixtures.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

interface Answer {
  status: number;
  contentType: string | null;
  cacheControl: string | null;
  body: string;
}

async function post(url: string, body: unknown, token?: string, accept?: string): Promise<Answer> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(accept !== undefined ? { accept } : {}),
    },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    cacheControl: res.headers.get('cache-control'),
    body: await res.text(),
  };
}

const RECS = `query R($u: ID!, $n: Int = 10, $ex: Boolean = true, $g: [String!]) {
  recommendations(userId: $u, limit: $n, excludeRated: $ex, genres: $g) {
    source modelVersion { id engine }
    items { rank score movie { id title year genres } }
  }
}`;

const FRAGMENTS = `query F($u: ID!, $why: Boolean!) {
  recommendations(userId: $u, limit: 5) { ...Recs }
  first: movie(id: "1") { ...M __typename }
  similarMovies(movieId: "1", limit: 3) { similarity movie { ...M } }
}
fragment Recs on Recommendations { source items { rank movie { ...M } because(limit: 2) @include(if: $why) { id } } }
fragment M on Movie { id title year genres ratingCount averageRating }`;

interface Case {
  name: string;
  body: { query: string; variables?: Record<string, unknown>; operationName?: string };
  /** Whose token: user "1", an admin, or none. */
  as?: 'alice' | 'admin';
  accept?: string;
}

const CASES: Case[] = [
  { name: 'recommendations, own token', body: { query: RECS, variables: { u: '1' } }, as: 'alice' },
  {
    name: 'limit 100, rated movies kept, two genres',
    body: { query: RECS, variables: { u: '1', n: 100, ex: false, g: ['Comedy', 'drama'] } },
    as: 'alice',
  },
  { name: 'an unknown user (popularity)', body: { query: RECS, variables: { u: 'nobody' } }, as: 'admin' },
  {
    name: 'fragments, aliases, @include, __typename',
    body: { query: FRAGMENTS, variables: { u: '2', why: true } },
    as: 'admin',
  },
  { name: '@include false', body: { query: FRAGMENTS, variables: { u: '2', why: false } }, as: 'admin' },
  {
    name: 'another user’s recommendations: FORBIDDEN',
    body: { query: RECS, variables: { u: '2' } },
    as: 'alice',
  },
  { name: 'no token: UNAUTHENTICATED (HTTP 401)', body: { query: RECS, variables: { u: '1' } } },
  { name: 'limit 0: BAD_USER_INPUT', body: { query: RECS, variables: { u: '1', n: 0 } }, as: 'alice' },
  { name: 'an unknown genre', body: { query: RECS, variables: { u: '1', g: ['Nope'] } }, as: 'alice' },
  {
    name: 'a variable of the wrong type (HTTP 400)',
    body: { query: RECS, variables: { u: '1', n: 'ten' } },
    as: 'alice',
  },
  { name: 'a required variable missing (HTTP 400)', body: { query: RECS, variables: {} }, as: 'alice' },
  {
    name: 'an error inside a list: because(limit: 11) nulls its way up',
    body: {
      query:
        'query B($u: ID!) { recommendations(userId: $u, limit: 2) { items { rank because(limit: 11) { id } } } }',
      variables: { u: '1' },
    },
    as: 'alice',
  },
  { name: 'NOT_FOUND', body: { query: '{ movie(id: "no-such-movie") { title } }' } },
  {
    name: 'catalogue paging and a user’s ratings',
    body: {
      query:
        '{ movies(search: "star", first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title } } } user(id: "1") { ratingCount ratings(first: 2) { totalCount edges { node { rating movie { id } } } } } }',
    },
    as: 'alice',
  },
  {
    name: 'someone else’s rating history: FORBIDDEN',
    body: { query: '{ user(id: "3") { ratings(first: 1) { totalCount } } }' },
    as: 'alice',
  },
  {
    name: 'introspection',
    body: {
      query:
        '{ __schema { queryType { name } mutationType { name } } __type(name: "Movie") { fields { name } } }',
    },
  },
  {
    name: 'operationName picks one of two operations',
    body: { query: `${RECS} query M { activeModel { id task } }`, operationName: 'M' },
  },
  {
    name: 'Accept: application/graphql-response+json',
    body: { query: '{ activeModel { id } }' },
    accept: 'application/graphql-response+json',
  },
  { name: 'a validation error (HTTP 400)', body: { query: '{ movie(id: "1") { nope } }' } },
  {
    name: 'too costly: refused before running (HTTP 400)',
    body: {
      query: `{ ${Array.from({ length: 120 }, (_, i) => `a${i}: similarMovies(movieId: "${i + 1}") { similarity }`).join(' ')} }`,
    },
  },
];

describe('the compiled path answers as graphql-js does', () => {
  let seeded: Seeded;
  let plain: RunningServer;
  let compiled: RunningServer;
  let alice: string;
  let admin: string;
  /** The scan cost both servers charge (changed by the budget test). */
  let scan = 100;

  beforeAll(async () => {
    seeded = await seededDatabase('pglite');
    const options = {
      db: seeded.db,
      port: 0,
      logger: silentLogger,
      auth: { mode: 'jwt' as const, secret: SECRET },
      responseCacheBytes: 0,
      limits: { maxDepth: 8, maxCost: 100_000, scanCost: () => scan },
    };
    plain = await startServer({ ...options, compile: false });
    compiled = await startServer({ ...options, compile: { after: 1 } });
    alice = await mintToken(SECRET, '1');
    admin = await mintToken(SECRET, 'ops', { scope: 'admin' });
  }, 120_000);

  afterAll(async () => {
    await compiled?.close();
    await plain?.close();
    await seeded?.db.close();
  });

  it.each(CASES)('$name', async ({ body, as, accept }) => {
    const token = as === 'alice' ? alice : as === 'admin' ? admin : undefined;
    const expected = await post(plain.url, body, token, accept);
    for (let round = 0; round < 3; round++) {
      expect(await post(compiled.url, body, token, accept), `round ${round + 1}`).toEqual(expected);
    }
  });

  it('really took the compiled and the fast path (and the plain server never did)', () => {
    expect(compiled.graphqlStats.compilations).toBeGreaterThan(5);
    expect(compiled.graphqlStats.compiled).toBeGreaterThan(10);
    expect(compiled.graphqlStats.fastPath).toBeGreaterThan(10);
    expect(plain.graphqlStats).toMatchObject({ compiled: 0, compilations: 0, fastPath: 0 });
  });

  it('charges the execution budget alike: BUDGET_EXCEEDED once a scan costs more than when validated', async () => {
    // three scans over distinct genres, validated at a scan cost of 100; then a scan costs 40,000 (model change)
    const query = `query S($u: ID!) { a: recommendations(userId: $u, limit: 1, genres: ["Comedy"]) { source }
      b: recommendations(userId: $u, limit: 1, genres: ["Drama"]) { source }
      c: recommendations(userId: $u, limit: 1, genres: ["Action"]) { source } }`;
    const body = { query, variables: { u: '1' } };
    for (const server of [plain, compiled, compiled])
      expect((await post(server.url, body, alice)).status).toBe(200);
    scan = 40_000;
    try {
      const expected = await post(plain.url, body, alice);
      expect(expected.body).toContain('BUDGET_EXCEEDED');
      for (let round = 0; round < 3; round++) expect(await post(compiled.url, body, alice)).toEqual(expected);
    } finally {
      scan = 100;
    }
  });
});
