/**
 * Authentication and authorisation against the real server on PostgreSQL: bearer JWTs (HS256 secret), who may read a
 * rating history and rate in a user's name, what stays public, the demo sign-in, and the refusals to start.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type RunningServer, startServer } from '../src/index.ts';
import { type Seeded, seededDatabase, serveSeeded, silentLogger } from './fixtures.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';

const tried: Record<string, number> = {};
function hostile(kind: string, n = 1): void {
  tried[kind] = (tried[kind] ?? 0) + n;
}

// biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field
async function ask(url: string, query: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.json() };
}

const code = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) =>
  r.body.errors?.[0]?.extensions?.code;

describe('authentication on PostgreSQL', () => {
  let seeded: Seeded;
  let server: RunningServer;
  let alice: string; // user "1"
  let admin: string;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    server = await serveSeeded(seeded, { auth: { mode: 'jwt', secret: SECRET } });
    alice = await mintToken(SECRET, '1');
    admin = await mintToken(SECRET, 'ops', { scope: 'read admin' });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
    console.log(`hostile inputs tried, by kind: ${JSON.stringify(tried)}`);
  });

  it('keeps the catalogue public and a user’s own data to that user or an admin', async () => {
    const publicQ =
      '{ movie(id: "1") { title } similarMovies(movieId: "1", limit: 2) { similarity } activeModel { id } }';
    expect((await ask(server.url, publicQ)).body.errors).toBeUndefined();
    expect((await ask(server.url, '{ user(id: "2") { id ratingCount } }')).body.data.user.id).toBe('2');

    const history = (id: string) => `{ user(id: "${id}") { ratings(first: 2) { totalCount } } }`;
    hostile('anonymous reads a history');
    expect(code(await ask(server.url, history('1')))).toBe('UNAUTHENTICATED');
    expect((await ask(server.url, history('1'), alice)).body.data.user.ratings.totalCount).toBeGreaterThan(0);
    hostile('user reads another user’s history');
    const other = await ask(server.url, history('2'), alice);
    expect(code(other)).toBe('FORBIDDEN');
    expect(other.body.errors[0].message).toContain('only for that user or an admin');
    expect((await ask(server.url, history('2'), admin)).body.errors).toBeUndefined();

    const recs = (id: string) => `{ recommendations(userId: "${id}", limit: 2) { source } }`;
    hostile('anonymous asks for a user’s recommendations');
    expect(code(await ask(server.url, recs('1')))).toBe('UNAUTHENTICATED');
    hostile('user asks for another user’s recommendations');
    expect(code(await ask(server.url, recs('2'), alice))).toBe('FORBIDDEN');
    expect((await ask(server.url, recs('1'), alice)).body.data.recommendations.source).toBe('PERSONALIZED');
    // the response cache never hands one caller's answer to another
    expect(code(await ask(server.url, recs('1')))).toBe('UNAUTHENTICATED');
  });

  it('lets rateMovie rate only in the token’s own name (or an admin’s), and stores nothing otherwise', async () => {
    const rate = (id: string) =>
      `mutation { rateMovie(userId: "${id}", movieId: "1", rating: 4) { foldedInRatings } }`;
    hostile('anonymous rates');
    expect(code(await ask(server.url, rate('auth-new')))).toBe('UNAUTHENTICATED');
    hostile('user rates as another user');
    expect(code(await ask(server.url, rate('auth-new'), alice))).toBe('FORBIDDEN');
    expect((await ask(server.url, '{ user(id: "auth-new") { id } }')).body.data.user).toBeNull();
    const own = await mintToken(SECRET, 'auth-new');
    expect((await ask(server.url, rate('auth-new'), own)).body.data.rateMovie.foldedInRatings).toBe(1);
    expect((await ask(server.url, rate('auth-other'), admin)).body.errors).toBeUndefined();
  });

  it('refuses bad tokens with 401: wrong key, expired, alg none, no sub, not a bearer', async () => {
    const q = '{ activeModel { id } }';
    const wrongKey = await mintToken('another-secret-that-is-32-bytes-or-more!!', '1');
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(SECRET));
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: '1', scope: 'admin' })}.`;
    const noSub = await new SignJWT({ scope: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const tampered = `${alice.split('.')[0]}.${b64({ sub: '2', scope: 'admin', exp: 9_999_999_999 })}.${alice.split('.')[2]}`;
    for (const [kind, token] of Object.entries({
      wrongKey,
      expired,
      none,
      noSub,
      tampered,
      garbage: 'x.y.z',
    })) {
      hostile(`bad token: ${kind}`);
      const r = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: q }),
      });
      expect(r.status, kind).toBe(401);
      expect(r.headers.get('www-authenticate'), kind).toContain('invalid_token');
    }
    hostile('bad token: basic auth');
    const basic = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic dTpw' },
      body: JSON.stringify({ query: q }),
    });
    expect(basic.status).toBe(401);
    hostile('demo sign-in on a real-token server');
    expect((await fetch(`${server.url}/auth/demo`, { method: 'POST', body: '{"userId":"1"}' })).status).toBe(
      404,
    );
  });

  it('demo mode on loopback: POST /auth/demo gives a short-lived token for the chosen user', async () => {
    const demo = await serveSeeded(seeded, { auth: { mode: 'demo' } });
    try {
      const res = await fetch(`${demo.url}/auth/demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: '3' }),
      });
      expect(res.status).toBe(200);
      const { token, expiresIn } = (await res.json()) as { token: string; expiresIn: number };
      expect(expiresIn).toBe(3600);
      expect(
        (await ask(demo.url, '{ user(id: "3") { ratings { totalCount } } }', token)).body.errors,
      ).toBeUndefined();
      expect(code(await ask(demo.url, '{ user(id: "4") { ratings { totalCount } } }', token))).toBe(
        'FORBIDDEN',
      );
      hostile('demo sign-in with a bad user ID', 2);
      for (const body of ['{"userId":""}', 'not json']) {
        const bad = await fetch(`${demo.url}/auth/demo`, { method: 'POST', body });
        expect(bad.status).toBe(400);
      }
      // a token of this demo server means nothing to the other one (its secret is random per process)
      hostile('token from another server');
      expect(
        (await fetch(`${server.url}/graphql`, { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(401);
    } finally {
      await demo.close();
    }
  });

  it('keeps /metrics on the main port to an admin token when authentication is on', async () => {
    hostile('metrics without admin', 3);
    const metrics = (token?: string) =>
      fetch(
        `${server.metricsUrl}`,
        token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
    const none = await metrics();
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/admin scope/);
    const user = await metrics(alice);
    expect(user.status).toBe(403);
    expect(((await user.json()) as { error: string }).error).toMatch(/user 1 does not have it/);
    expect((await metrics('not.a.token')).status).toBe(401);
    const ok = await metrics(admin);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^# HELP movierec_/m);
  });

  it('refuses loudly to start without authentication (or in demo mode) on a non-loopback host', async () => {
    hostile('auth off on a public host', 2);
    await expect(
      startServer({ db: seeded.db, port: 0, host: '0.0.0.0', logger: silentLogger }),
    ).rejects.toThrow(/refusing to start: authentication is off .* --insecure-no-auth/);
    await expect(
      startServer({ db: seeded.db, port: 0, host: '0.0.0.0', logger: silentLogger, auth: { mode: 'demo' } }),
    ).rejects.toThrow(/demo authentication .* loopback host only/);
    await expect(serveSeeded(seeded, { auth: { mode: 'jwt', secret: 'short' } })).rejects.toThrow(
      /at least 32 bytes/,
    );
    // told explicitly, it starts (and warns)
    const open = await startServer({
      db: seeded.db,
      port: 0,
      host: '0.0.0.0',
      logger: silentLogger,
      auth: { mode: 'off', insecureNoAuth: true },
    });
    await open.close();
  });
});
