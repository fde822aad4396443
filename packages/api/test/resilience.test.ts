import { activateModelVersion, saveModel } from '@movierec/db';
import { CuttableProxy } from '@movierec/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeOn } from '../src/db-store.ts';
import { type RunningServer, startServer } from '../src/index.ts';
import type { ApiStore } from '../src/store.ts';
import {
  gql,
  type Seeded,
  seededDatabase,
  serveSeeded,
  silentLogger,
  spawnServerProcess,
  trainAls,
} from './fixtures.ts';

describe('database outage on PostgreSQL', () => {
  let seeded: Seeded;
  let proxy: CuttableProxy;
  let server: RunningServer;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    const target = new URL(seeded.db.url!);
    proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
    await proxy.open();
    const viaProxy = new URL(seeded.db.url!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    server = await startServer({
      databaseUrl: viaProxy.toString(),
      port: 0,
      logger: silentLogger,
      pollMs: 100,
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await proxy?.cut();
    await seeded?.db.close();
  });

  it('returns errors while the database is away, stays up, and recovers when it returns', async () => {
    const known = seeded.dataset.users.externalId(2);
    const rec = `{ recommendations(userId: "${known}", limit: 3) { source items { movie { id } } } }`;
    const warm = await gql(server.url, rec);
    expect(warm.errors).toBeUndefined();
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);

    await proxy.cut();
    // a user whose ratings are not in memory yet needs the database: an error, with a code, not a crash
    const userQ = `{ user(id: "${seeded.dataset.users.externalId(7)}") { ratingCount } }`;
    const down = await gql(server.url, userQ);
    expect(down.status).toBe(200);
    expect(down.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const rate = await gql(
      server.url,
      `mutation { rateMovie(userId: "${known}", movieId: "1", rating: 4) { foldedInRatings } }`,
    );
    expect(rate.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const versions = await gql(server.url, `{ modelVersions { id } }`);
    expect(versions.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ modelLoaded: true, databaseReachable: false });
    // what is already in memory keeps being served, and the process is alive
    const cached = await gql(server.url, rec);
    expect(cached.errors).toBeUndefined();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);

    await proxy.open();
    await expect.poll(async () => (await fetch(`${server.url}/ready`)).status, { timeout: 20_000 }).toBe(200);
    const back = await gql(server.url, userQ);
    expect(back.errors).toBeUndefined();
    expect(back.data!.user.ratingCount).toBeGreaterThan(0);
    const rated = await gql(
      server.url,
      `mutation { rateMovie(userId: "${known}", movieId: "1", rating: 4) { foldedInRatings } }`,
    );
    expect(rated.errors).toBeUndefined();
  }, 60_000);

  it('picks up a newly activated model version without a restart', async () => {
    const before = await gql(server.url, `{ activeModel { id factors } }`);
    expect(before.data!.activeModel.id).toBe(String(seeded.versionId));
    const other = await trainAls(seeded.dataset, 4, 2, 99);
    const id = await saveModel(seeded.db, other, { datasetFingerprint: 'api-test-2', engine: 'als' });
    await activateModelVersion(seeded.db, id);
    await expect
      .poll(async () => (await gql(server.url, `{ activeModel { id factors } }`)).data!.activeModel, {
        timeout: 20_000,
      })
      .toEqual({ id: String(id), factors: 4 });
    const userId = seeded.dataset.users.externalId(0);
    const r = await gql(
      server.url,
      `{ recommendations(userId: "${userId}", limit: 1) { modelVersion { id } items { score movie { id } } } }`,
    );
    expect(r.data!.recommendations.modelVersion.id).toBe(String(id));
    const item = other.items.indexOf(r.data!.recommendations.items[0].movie.id);
    expect(r.data!.recommendations.items[0].score).toBeCloseTo(
      other.predict(other.users.indexOf(userId), item),
      4,
    );
  }, 60_000);

  it('sees ratings stored by another API process (change feed)', async () => {
    const second = await serveSeeded(seeded, { pollMs: 100 });
    try {
      const userId = `cross-process-${Date.now()}`;
      const q = `{ recommendations(userId: "${userId}", limit: 5) { source } }`;
      expect((await gql(server.url, q)).data!.recommendations.source).toBe('POPULARITY');
      for (const movieId of ['1', '2', '3']) {
        const r = await gql(
          second.url,
          `mutation { rateMovie(userId: "${userId}", movieId: "${movieId}", rating: 5) { foldedInRatings } }`,
        );
        expect(r.errors).toBeUndefined();
      }
      await expect
        .poll(async () => (await gql(server.url, q)).data!.recommendations.source, { timeout: 20_000 })
        .toBe('PERSONALIZED');
    } finally {
      await second.close();
    }
  }, 60_000);

  it('on close, stops accepting but lets an in-flight request finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((done) => {
      release = done;
    });
    let entered!: () => void;
    const inside = new Promise<void>((done) => {
      entered = done;
    });
    const real = storeOn(seeded.db, false);
    const slow: ApiStore = {
      shared: real.shared,
      activeModelsKey: () => real.activeModelsKey(),
      loadActiveModels: () => real.loadActiveModels(),
      loadMovies: () => real.loadMovies(),
      userRatings: (u) => real.userRatings(u),
      ratingPage: (u, f, a) => real.ratingPage(u, f, a),
      upsertRating: (u, m, r) => real.upsertRating(u, m, r),
      upsertView: (u, m, w) => real.upsertView(u, m, w),
      changedUsersSince: (s) => real.changedUsersSince(s),
      ping: () => real.ping(),
      close: () => real.close(),
      async listModelVersions() {
        entered();
        await gate;
        return real.listModelVersions();
      },
    };
    const s = await startServer({ store: slow, port: 0, logger: silentLogger });
    const pending = gql(s.url, `{ modelVersions { id } }`);
    await inside;
    const closing = s.close();
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    release();
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.errors).toBeUndefined();
    expect(r.data!.modelVersions.length).toBeGreaterThanOrEqual(1);
    await closing;
  }, 60_000);

  it('as a process (runFromEnv, as apps/api/src/main.ts), serves and exits 0 on SIGTERM', async () => {
    const { child, listening, exited } = spawnServerProcess(seeded.db.url!);
    const url = await listening;
    const r = await gql(url, `{ recommendations(userId: "1", limit: 2) { source } }`);
    expect(r.data!.recommendations.source).toBe('PERSONALIZED');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('a replica started while its database is down is not ready (not listening) until it returns, then serves', async () => {
    const target = new URL(seeded.db.url!);
    const gate = new CuttableProxy(target.hostname, Number(target.port || 5432));
    await gate.open();
    await gate.cut(); // the port is known, nothing listens on it: the database is "down"
    const viaGate = new URL(seeded.db.url!);
    viaGate.host = `127.0.0.1:${gate.port}`;
    const { child, listening, exited, stderr } = spawnServerProcess(viaGate.toString());
    try {
      let url: string | null = null;
      listening.then((u) => {
        url = u;
      });
      let exitCode: number | null | undefined;
      exited.then((code) => {
        exitCode = code;
      });
      await expect
        .poll(() => stderr(), { timeout: 30_000 })
        .toContain('database unreachable: waiting for it');
      await new Promise((done) => setTimeout(done, 1000));
      expect(url).toBeNull(); // not listening: a balancer's check sees it as down
      expect(exitCode).toBeUndefined(); // and still running
      await gate.open();
      await expect.poll(() => url, { timeout: 30_000 }).not.toBeNull();
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const r = await gql(url!, `{ recommendations(userId: "1", limit: 2) { source } }`);
      expect(r.data!.recommendations.source).toBe('PERSONALIZED');
    } finally {
      child.kill('SIGTERM');
      await gate.cut();
    }
  }, 90_000);
});
