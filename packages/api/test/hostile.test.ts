import { connect } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardStats } from '../src/graphql/guard.ts';
import type { RunningServer } from '../src/index.ts';
import { fragmentBomb } from './attacks.ts';
import { gql, type Seeded, seededDatabase, serveSeeded, spawnServerProcess } from './fixtures.ts';

const tried: Record<string, number> = {};
function hostile(kind: string, n = 1): void {
  tried[kind] = (tried[kind] ?? 0) + n;
}

/** n aliases of recommendations over distinct (user, genre) pairs: n catalogue scans no cache can share. */
function scanAliases(n: number, genres: string[], shift = 0): string {
  const fields = Array.from(
    { length: n },
    (_, i) =>
      `a${i}: recommendations(userId: "${1 + (i % 120)}", limit: 1, genres: ["${genres[(i + shift) % genres.length]}"]) { source }`,
  );
  return `{ ${fields.join(' ')} }`;
}

const GENRES = ['Drama', 'Comedy', 'Action', 'Thriller', 'Romance', 'Adventure', 'Crime', 'Sci-Fi', 'Horror'];

describe('hostile queries on PostgreSQL', () => {
  let seeded: Seeded;
  let server: RunningServer;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    server = await serveSeeded(seeded, { pollMs: 500 });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
    console.log(`hostile inputs tried, by kind: ${JSON.stringify(tried)}`);
  });

  it('refuses the 2ⁿ fragment document (n = 29, 60) before running it, and answers /health meanwhile', async () => {
    for (const n of [29, 60]) {
      hostile('fragment bomb');
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
    const ok = await gql(server.url, '{ movie(id: "1") { title } }');
    expect(ok.data).toEqual({ movie: { title: expect.any(String) } });
  });

  it('charges every alias of a catalogue scan: the alias attack is refused, by cost or by the token limit', async () => {
    hostile('scan aliases');
    const byCost = await gql(server.url, scanAliases(200, GENRES));
    expect(byCost.status).toBe(400);
    expect(byCost.errors?.[0]?.extensions).toMatchObject({ limit: 'cost' });
    expect(byCost.errors?.[0]?.message).toContain('catalogue scan, 907');
    hostile('scan aliases');
    const issue = await gql(server.url, scanAliases(2400, GENRES)); // the issue's 2,400 pairs
    expect(issue.status).toBe(400);
    expect(issue.errors?.[0]?.message).toMatch(/Document contains more th.. 5000 tokens/);
    hostile('introspection aliases');
    const schemas = await gql(
      server.url,
      `{ ${Array.from({ length: 100 }, (_, i) => `s${i}: __schema { types { name fields { name args { name } } } }`).join(' ')} }`,
    );
    expect(schemas.status).toBe(400);
    expect(schemas.errors?.[0]?.extensions).toMatchObject({ limit: 'cost' });
  });

  it('runs the worst allowed request without holding the event loop: it yields between scans', async () => {
    const allowed = Math.floor(100_000 / 909); // 110 aliases, each 1 + 907 + 1
    hostile('worst allowed request', 2);
    // first with the users' states loaded from the database (I/O between scans), then again over other genres with
    // the states in memory: 110 scans back to back with nothing to wait for, so only the guard's yields break them up
    const first = await gql(server.url, scanAliases(allowed, GENRES));
    expect(first.errors).toBeUndefined();
    const before = guardStats.yields;
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    let healthAnswers = 0;
    let done = false;
    const heavy = gql(server.url, scanAliases(allowed, GENRES, 1)).finally(() => {
      done = true;
    });
    const probes = (async () => {
      while (!done) {
        const r = await fetch(`${server.url}/health`);
        if (r.ok && !done) healthAnswers++;
      }
    })();
    const r = await heavy;
    await probes;
    histogram.disable();
    expect(r.errors).toBeUndefined();
    expect(Object.keys(r.data!)).toHaveLength(allowed);
    // structural: the request gave the loop back between scans, and /health was answered while it ran
    expect(guardStats.yields - before).toBeGreaterThan(0);
    expect(healthAnswers).toBeGreaterThan(0);
    console.log(
      `worst allowed request (${allowed} scans): ${guardStats.yields - before} yields, ${healthAnswers} /health ` +
        `answers meanwhile, event-loop delay max ${(histogram.max / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms`,
    );
  }, 60_000);

  it('answers a body over 1 MiB with a real 413 (declared length or chunked), and nosniff on every response', async () => {
    hostile('oversized body', 2);
    const big = `{"query":"{ activeModel { id } }","pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const declared = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: string }).error).toContain('larger than 1048576 bytes');
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 3; i++) c.enqueue(new TextEncoder().encode('x'.repeat(512 * 1024)));
        c.close();
      },
    });
    const chunked = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    for (const r of [declared, chunked]) expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    for (const path of ['/health', '/ready', '/no-such-page', '/graphql?query=%7B__typename%7D']) {
      const r = await fetch(`${server.url}${path}`, { headers: { 'apollo-require-preflight': '1' } });
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
    }
  });

  it('cuts a client that sends its headers too slowly (headers timeout)', async () => {
    const strict = await serveSeeded(seeded, { timeouts: { headersMs: 500, requestMs: 1000 } });
    try {
      hostile('slow headers');
      const { port } = new URL(strict.url);
      const answer = await new Promise<string>((done, fail) => {
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n'),
        );
        let got = '';
        socket.on('data', (d) => {
          got += d.toString();
        });
        socket.on('close', () => done(got));
        socket.on('error', fail);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await strict.close();
    }
  }, 30_000);

  it('limits each client: past the limit 429 with Retry-After', async () => {
    const limited = await serveSeeded(seeded, {
      rateLimit: { points: 5, durationSeconds: 60, includeLoopback: true },
    });
    try {
      hostile('request flood', 8);
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 8; i++) {
        const r = await fetch(`${limited.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ activeModel { id } }' }),
        });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
        await r.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${limited.url}/health`)).status).toBe(200); // liveness is not limited
    } finally {
      await limited.close();
    }
  });

  it('in production mode, refuses introspection and gives no field suggestions', async () => {
    const prod = await serveSeeded(seeded, { production: true });
    try {
      hostile('introspection in production');
      const intro = await gql(prod.url, '{ __schema { types { name } } }');
      expect(intro.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
      hostile('field probing');
      const typo = await gql(prod.url, '{ movi(id: "1") { title } }');
      expect(typo.errors?.[0]?.message).not.toMatch(/did you mean/i);
      // development mode suggests
      const dev = await gql(server.url, '{ movi(id: "1") { title } }');
      expect(dev.errors?.[0]?.message).toMatch(/did you mean/i);
    } finally {
      await prod.close();
    }
  });

  it('stops within 10 s of SIGTERM while heavy requests run', async () => {
    const { child, listening, exited } = spawnServerProcess(seeded.db.url!);
    const url = await listening;
    hostile('SIGTERM under load');
    // ten worst allowed requests at once over other genres (nothing cached), then the signal
    const heavy = Array.from({ length: 10 }, (_, k) =>
      gql(url, scanAliases(110, GENRES.slice(k % 3))).catch(() => null),
    );
    await new Promise((done) => setTimeout(done, 300));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'still running'>((done) => {
      timer = setTimeout(() => done('still running'), 10_000);
    });
    const outcome = await Promise.race([exited, deadline]);
    clearTimeout(timer);
    if (outcome === 'still running') child.kill('SIGKILL');
    expect(outcome).not.toBe('still running');
    await Promise.all(heavy);
  }, 180_000);
});
