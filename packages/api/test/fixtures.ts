/**
 * Shared test fixtures: the bundled dataset imported into a fresh database (PostgreSQL or PGlite), a model trained on
 * it and stored as the active version, and a GraphQL client over HTTP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type EpochRecord, MFModel } from '@movierec/core';
import { type Dataset, IdMap, loadBundled, takeRows } from '@movierec/data';
import { importDataset, saveModel } from '@movierec/db';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '@movierec/db/testing';
import { alsEngine, type TrainConfig } from '@movierec/trainer';
import { type ServerOptions, startServer } from '../src/index.ts';
import { createLogger, type Logger } from '../src/logger.ts';

export const silentLogger: Logger = createLogger('silent');

/** A server on the seeded database, on a free port, logging nothing; `options` add to or override these. */
export function serveSeeded(seeded: Seeded, options: ServerOptions = {}) {
  return startServer({ db: seeded.db, port: 0, logger: silentLogger, ...options });
}

let bundled: Promise<Dataset> | null = null;
/**
 * The bundled dataset with the ratings of its first `TEST_USERS` users only (every movie kept), so importing it into
 * PGlite stays quick on a loaded machine.
 */
export function bundledDataset(): Promise<Dataset> {
  bundled ??= loadBundled().then((full) => firstUsers(full, TEST_USERS));
  return bundled;
}

export const TEST_USERS = 120;

function firstUsers(full: Dataset, n: number): Dataset {
  const cols = full.ratings;
  const rows: number[] = [];
  for (let r = 0; r < cols.length; r++) if (cols.users[r]! < n) rows.push(r);
  return {
    ...full,
    name: `${full.name} (first ${n} users)`,
    ratings: takeRows(cols, rows),
    users: IdMap.fromJSON(full.users.ids().slice(0, n)),
  };
}

/** A small biased-MF model trained by the trainer's ALS engine (Zhou et al. 2008, with biases) on `dataset`. */
export async function trainAls(dataset: Dataset, factors = 8, epochs = 4, seed = 7): Promise<MFModel> {
  const config: TrainConfig = {
    optimizer: 'als',
    factors,
    epochs,
    batchSize: 1024,
    learningRate: 0,
    l2: 5,
    initStd: 0.1,
    seed,
  };
  const epochLog: EpochRecord[] = [];
  const params = await alsEngine.fit(
    dataset.ratings,
    { numUsers: dataset.users.size, numItems: dataset.items.size },
    config,
    {
      onEpoch: (s) => {
        epochLog.push({ ...s, validationRmse: Math.sqrt(s.loss) });
        return undefined;
      },
    },
  );
  return new MFModel({
    params,
    users: dataset.users,
    items: dataset.items,
    config: { ...config, foldInL2: 5 },
    log: { engine: 'als', epochs: epochLog },
  });
}

export interface Seeded {
  db: TestDatabase;
  dataset: Dataset;
  model: MFModel;
  versionId: number;
}

/** A fresh database with the bundled dataset and an active model trained on it. */
export async function seededDatabase(kind: TestDatabaseKind, model?: MFModel): Promise<Seeded> {
  const dataset = await bundledDataset();
  const db = await createTestDatabase(kind);
  await importDataset(db, dataset);
  const m = model ?? (await trainAls(dataset));
  const versionId = await saveModel(db, m, {
    datasetFingerprint: 'api-test',
    engine: 'als',
    activate: true,
    metrics: { rmse: 0.9, mae: 0.7 },
  });
  return { db, dataset, model: m, versionId };
}

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data: T | null;
  errors: { message: string; extensions?: Record<string, unknown> }[] | undefined;
}

/** POSTs a GraphQL request to `${url}/graphql`. */
// biome-ignore lint/suspicious/noExplicitAny: test responses are asserted field by field
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GqlResult['errors'] };
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

/** The server as a process (test/run-server.ts: runFromEnv, as apps/api/src/main.ts runs it), with its stderr kept. */
export interface ServerProcess {
  child: ChildProcess;
  /** Resolves with the base URL once the process prints `{"listening":…}`; rejects if it exits before. */
  listening: Promise<string>;
  /** The exit code once it exits. */
  exited: Promise<number | null>;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
}

export function spawnServerProcess(databaseUrl: string): ServerProcess {
  const main = fileURLToPath(new URL('./run-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'warn', MOVIEREC_AUTH: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const listening = new Promise<string>((done, fail) => {
    exited.then((code) => fail(new Error(`exited ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{"listening"')) done((JSON.parse(line) as { listening: string }).listening);
    });
  });
  listening.catch(() => {});
  return { child, listening, exited, stderr: () => stderr };
}
