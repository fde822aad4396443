/**
 * Shared test fixtures: the bundled dataset imported into a fresh database (PostgreSQL or PGlite), a model trained on
 * it and stored as the active version, and a GraphQL client over HTTP.
 */
import { MFModel } from '@movierec/core';
import { type Dataset, IdMap, loadBundled, takeRows } from '@movierec/data';
import { importDataset, saveModel } from '@movierec/db';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '@movierec/db/testing';
import { createLogger, type Logger } from '../src/logger.ts';

export const silentLogger: Logger = createLogger('silent');

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

/**
 * A small biased-MF model fitted by alternating least squares (Zhou et al. 2008): each half-step solves every
 * user's (or movie's) regularised least squares against the fixed other side, here through MFModel.foldIn with
 * the roles of users and movies swapped for the movie half-step.
 */
export function trainAls(dataset: Dataset, factors = 8, sweeps = 3, seed = 7): MFModel {
  const { ratings: cols, users, items } = dataset;
  const numUsers = users.size;
  const numItems = items.size;
  let mu = 0;
  for (let r = 0; r < cols.length; r++) mu += cols.ratings[r]!;
  mu /= cols.length; // μ = mean rating
  const userBias = new Float32Array(numUsers);
  const itemBias = new Float32Array(numItems);
  const userFactors = new Float32Array(numUsers * factors);
  const itemFactors = new Float32Array(numItems * factors);
  let s = seed;
  for (let j = 0; j < itemFactors.length; j++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff; // LCG, deterministic init in ±0.05
    itemFactors[j] = (s / 0x7fffffff - 0.5) * 0.1;
  }
  const byUser = group(cols.users, cols.items, cols.ratings, cols.length, numUsers);
  const byItem = group(cols.items, cols.users, cols.ratings, cols.length, numItems);
  const userSide = {
    factors,
    numUsers,
    numItems,
    globalMean: mu,
    userBias,
    itemBias,
    userFactors,
    itemFactors,
  };
  const itemSide = {
    factors,
    numUsers: numItems,
    numItems: numUsers,
    globalMean: mu,
    userBias: itemBias,
    itemBias: userBias,
    userFactors: itemFactors,
    itemFactors: userFactors,
  };
  const solveUsers = new MFModel({ params: userSide, config: { foldInL2: 5 } });
  const solveItems = new MFModel({ params: itemSide, config: { foldInL2: 5 } });
  for (let sweep = 0; sweep < sweeps; sweep++) {
    halfStep(solveUsers, byUser, userBias, userFactors, factors);
    halfStep(solveItems, byItem, itemBias, itemFactors, factors);
  }
  halfStep(solveUsers, byUser, userBias, userFactors, factors);
  return new MFModel({
    params: userSide,
    users,
    items,
    config: { optimizer: 'als', factors, sweeps, foldInL2: 5 },
    log: {
      engine: 'als',
      epochs: [{ epoch: 1, loss: 0.8, seconds: 0.1, ratingsPerSecond: 1e6, validationRmse: 0.9 }],
    },
  });
}

interface Grouped {
  offsets: Int32Array;
  others: Int32Array;
  ratings: Float32Array;
}

function group(
  keys: Int32Array,
  others: Int32Array,
  ratings: Float32Array,
  n: number,
  rows: number,
): Grouped {
  const offsets = new Int32Array(rows + 1);
  for (let r = 0; r < n; r++) offsets[keys[r]! + 1]!++;
  for (let j = 0; j < rows; j++) offsets[j + 1]! += offsets[j]!;
  const cursor = offsets.slice(0, rows);
  const o = new Int32Array(n);
  const v = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const at = cursor[keys[r]!]!++;
    o[at] = others[r]!;
    v[at] = ratings[r]!;
  }
  return { offsets, others: o, ratings: v };
}

function halfStep(solver: MFModel, g: Grouped, bias: Float32Array, factors: Float32Array, k: number): void {
  for (let x = 0; x + 1 < g.offsets.length; x++) {
    const a = g.offsets[x]!;
    const b = g.offsets[x + 1]!;
    if (a === b) continue;
    const v = solver.foldIn(g.others.subarray(a, b), g.ratings.subarray(a, b));
    bias[x] = v.bias;
    factors.set(v.factors, x * k);
  }
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
  const m = model ?? trainAls(dataset);
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
