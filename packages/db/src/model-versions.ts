import {
  deserializeRecommender,
  type EpochRecord,
  type Metrics,
  MFModel,
  type MFParams,
  type ModelTask,
  type RatedIndex,
  type Recommender,
  readMetrics,
  serializeRecommender,
  type TemporalLayout,
  type TemporalParams,
  type TrainingLog,
  temporalLayout,
} from '@movierec/core';
import { IdMap } from '@movierec/data';
import type { Database } from './connection.ts';
import { DatabaseError, ModelVersionNotFoundError } from './errors.ts';

export type JsonObject = Record<string, unknown>;

/** What a model version is for (core's ModelTask): 'rating' or 'ranking'. */
export const MODEL_TASKS: readonly ModelTask[] = ['rating', 'ranking'];

function checkTask(task: unknown, where: string): ModelTask {
  if (task === 'rating' || task === 'ranking') return task;
  throw new RangeError(`${where}: task must be 'rating' or 'ranking', got ${JSON.stringify(task)}`);
}

export interface SaveModelVersionInput {
  /** Biased-MF parameters (stored in model_parameters), or… */
  params?: MFParams;
  /** …any other family's model, stored as its artifact (core's serializeRecommender). */
  model?: Recommender;
  /** Default: the model's task, 'rating' for MF parameters. */
  task?: ModelTask;
  /** External user ID of each row of the user parameters. */
  users: IdMap;
  /** External movie ID of each row of the movie parameters. */
  items: IdMap;
  engine: string;
  /** Hyper-parameters (e.g. TrainConfig). */
  config: JsonObject;
  /** The evaluation figures (core's Metrics: rmse, mae, precisionAt10, …). */
  metrics?: Metrics;
  /** The training ratings' rated index (MFModel.rated), so a loaded model excludes what users rated as the file does. */
  rated?: RatedIndex;
  /** λ of fold-in (MFModel.foldInL2). */
  foldInL2?: number;
  /** The engine's training log (its `epochs` go to the training run's per-epoch log), or just the epochs. */
  trainingLog?: TrainingLog | EpochRecord[];
  /** Identifies the training data (e.g. a hash of the ratings), to tell which data a version was trained on. */
  datasetFingerprint: string;
  /** Make it the active version of its task in the same transaction (default false). */
  activate?: boolean;
  /** A run started with startTrainingRun: it is finished and linked to the new version (its epochs are kept unless
   * `trainingLog` gives them). Default: a new finished run is recorded. */
  trainingRunId?: number;
}

export interface TrainingRunInfo {
  id: number;
  status: string;
  epochs: EpochRecord[];
  /** The rest of the training log (bestEpoch, stoppedEarly, …). */
  summary: JsonObject;
  startedAt: Date;
  finishedAt: Date | null;
}

/** A stored model version without its parameters: what `models list`, `modelVersions` and the API show. */
export interface ModelVersionInfo {
  id: number;
  engine: string;
  /** 'rating' or 'ranking': one active version per task. */
  task: ModelTask;
  /** The Recommender family that reads it back ('mf', …). */
  family: string;
  active: boolean;
  createdAt: Date;
  factors: number;
  numUsers: number;
  numMovies: number;
  config: JsonObject;
  metrics: Metrics;
  datasetFingerprint: string;
  trainingRun: TrainingRunInfo | null;
}

/**
 * A version's stored pieces: MF parameters (params, users, items) for family 'mf', else the family's artifact
 * bytes. `toRecommender` builds the model of either.
 */
export interface StoredModel {
  version: ModelVersionInfo;
  /** Family 'mf': the parameters and ID maps of model_parameters. */
  params?: MFParams;
  users?: IdMap;
  items?: IdMap;
  /** Any other family: its artifact (read back by core's deserializeRecommender). */
  artifact?: Uint8Array;
  config: JsonObject;
  metrics: Metrics;
  log: TrainingLog;
  /** MF: null in versions saved before the rated index was stored. */
  rated: RatedIndex | null;
  /** MF: null in versions saved before fold_in_l2 was stored (the model then derives it from config). */
  foldInL2: number | null;
}

/** Float32 or int32 vector → its little-endian bytes (a view, no copy). */
function bytesOf(values: Float32Array | Int32Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
}

/** Stored bytes → a Float32Array of `length` (copied, so it is aligned and owns its memory). */
function float32Of(bytes: Uint8Array, length: number, what: string, versionId: number): Float32Array {
  if (bytes.byteLength !== length * 4) {
    throw new DatabaseError(
      `Model version ${versionId}: ${what} holds ${bytes.byteLength} bytes, expected ${length * 4} (${length} float32); the stored model is damaged`,
    );
  }
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Stored bytes → an Int32Array (copied); `length` checked when given. */
function int32Of(bytes: Uint8Array, length: number | undefined, what: string, versionId: number): Int32Array {
  if (bytes.byteLength % 4 !== 0 || (length !== undefined && bytes.byteLength !== length * 4)) {
    throw new DatabaseError(
      `Model version ${versionId}: ${what} holds ${bytes.byteLength} bytes, expected ${length === undefined ? 'a multiple of 4' : `${length * 4} (${length} int32)`}; the stored model is damaged`,
    );
  }
  const out = new Int32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function splitLog(log: TrainingLog | EpochRecord[] | undefined, engine: string) {
  if (log === undefined) return { epochs: [] as EpochRecord[], summary: {} as JsonObject };
  if (Array.isArray(log)) return { epochs: log, summary: {} };
  const { epochs, engine: logEngine, ...summary } = log;
  if (logEngine !== undefined && logEngine !== engine) summary.logEngine = logEngine;
  return { epochs, summary };
}

/** Stores a trained model as a new version (parameters and training run in the same transaction); returns its id. */
export async function saveModelVersion(db: Database, input: SaveModelVersionInput): Promise<number> {
  const { users, items } = input;
  const mf = input.params ?? (input.model instanceof MFModel ? input.model.params : undefined);
  const other = mf === undefined ? input.model : undefined;
  if (mf === undefined && other === undefined)
    throw new RangeError('saveModelVersion: give the MF `params` or a `model`');
  const task = checkTask(input.task ?? input.model?.task ?? 'rating', 'saveModelVersion');
  const shape = mf
    ? { factors: mf.factors, numUsers: mf.numUsers, numItems: mf.numItems }
    : { factors: factorsOf(other!), numUsers: other!.numUsers, numItems: other!.numItems };
  if (users.size !== shape.numUsers || items.size !== shape.numItems) {
    throw new RangeError(
      `saveModelVersion: ID maps (${users.size} users, ${items.size} movies) do not match the parameters (${shape.numUsers} users, ${shape.numItems} movies)`,
    );
  }
  if (mf?.itemRankBias !== undefined && mf.itemRankBias.length !== mf.numItems) {
    throw new RangeError(
      `saveModelVersion: itemRankBias holds ${mf.itemRankBias.length} values, expected one per movie (${mf.numItems})`,
    );
  }
  const artifact = other ? serializeRecommender(other) : null;
  const { epochs, summary } = splitLog(input.trainingLog, input.engine);
  const json = (value: unknown) => JSON.parse(JSON.stringify(value ?? {}));
  return db.prisma.$transaction(async (tx) => {
    if (input.activate)
      await tx.modelVersion.updateMany({ where: { active: true, task }, data: { active: false } });
    const version = await tx.modelVersion.create({
      data: {
        engine: input.engine,
        task,
        family: mf ? 'mf' : other!.family,
        artifact: artifact ? Uint8Array.from(artifact) : null,
        config: json(input.config),
        metrics: json(input.metrics),
        datasetFingerprint: input.datasetFingerprint,
        factors: shape.factors,
        numUsers: shape.numUsers,
        numMovies: shape.numItems,
        active: input.activate ?? false,
        parameters: mf
          ? {
              create: {
                globalMean: mf.globalMean,
                userBias: bytesOf(mf.userBias),
                movieBias: bytesOf(mf.itemBias),
                userFactors: bytesOf(mf.userFactors),
                movieFactors: bytesOf(mf.itemFactors),
                movieRankBias: mf.itemRankBias ? bytesOf(mf.itemRankBias) : null,
                ...temporalColumns(mf.temporal),
                foldInL2: input.foldInL2 ?? null,
                ratedOffsets: input.rated ? bytesOf(input.rated.offsets) : null,
                ratedItems: input.rated ? bytesOf(input.rated.items) : null,
                userIds: users.ids(),
                movieIds: items.ids(),
              },
            }
          : undefined,
        trainingRun:
          input.trainingRunId === undefined
            ? {
                create: {
                  engine: input.engine,
                  config: json(input.config),
                  datasetFingerprint: input.datasetFingerprint,
                  status: 'finished',
                  epochs: json(epochs),
                  summary: json(summary),
                  finishedAt: new Date(),
                },
              }
            : undefined,
      },
      select: { id: true },
    });
    if (input.trainingRunId !== undefined) {
      const linked = await tx.trainingRun.updateMany({
        where: { id: input.trainingRunId, modelVersionId: null },
        data: {
          modelVersionId: version.id,
          status: 'finished',
          finishedAt: new Date(),
          ...(input.trainingLog === undefined ? {} : { epochs: json(epochs), summary: json(summary) }),
        },
      });
      if (linked.count !== 1) {
        throw new DatabaseError(
          `Training run ${input.trainingRunId} does not exist or already belongs to a model version; nothing was saved`,
        );
      }
    }
    return version.id;
  }, TRANSACTION_OPTIONS);
}

/**
 * Prisma's interactive transactions expire after 5 s by default; on a loaded machine a save of a large model can
 * take longer, and a statement after the expiry ran outside the transaction (seen as a foreign-key violation of
 * model_parameters under load). A generous limit keeps the save one transaction.
 */
const TRANSACTION_OPTIONS = { maxWait: 30_000, timeout: 120_000 };

/** The `factors` column of a model that is not MF: its own `factors` when it has one (a factor model), else 0. */
function factorsOf(model: Recommender): number {
  const f = (model as { factors?: unknown }).factors;
  return typeof f === 'number' && Number.isInteger(f) && f >= 0 ? f : 0;
}

/**
 * Stores a model of any family (its parameters, ID maps, config and training log) as a new version of its task:
 * an MFModel in model_parameters, any other family as its artifact.
 */
export async function saveModel(
  db: Database,
  model: Recommender & {
    readonly config?: Readonly<Record<string, unknown>>;
    /** TrainingLog, or another family's own log (NCF's epochs carry a stage): stored as JSON either way. */
    readonly log?: TrainingLog | { readonly engine: string; readonly [key: string]: unknown };
  },
  meta: {
    datasetFingerprint: string;
    metrics?: Metrics;
    engine?: string;
    activate?: boolean;
    task?: ModelTask;
  },
): Promise<number> {
  return saveModelVersion(db, {
    // an MFModel: the same fields as its model file (rated index, fold-in λ), so toMFModel(loadModelVersion(id)) equals it
    ...(model instanceof MFModel
      ? {
          params: model.params,
          ...(model.rated ? { rated: model.rated } : {}),
          foldInL2: model.foldInL2,
        }
      : { model }),
    users: model.users,
    items: model.items,
    task: meta.task ?? model.task,
    engine: meta.engine ?? model.log?.engine ?? model.family,
    config: { ...(model.config ?? {}) },
    metrics: meta.metrics,
    ...(model.log ? { trainingLog: model.log as TrainingLog } : {}),
    datasetFingerprint: meta.datasetFingerprint,
    activate: meta.activate,
  });
}

/** Records the start of a training run (status 'running'), so epochs can be logged as they finish; returns its id. */
export async function startTrainingRun(
  db: Database,
  run: { engine: string; config: JsonObject; datasetFingerprint: string },
): Promise<number> {
  const created = await db.prisma.trainingRun.create({
    data: {
      engine: run.engine,
      config: JSON.parse(JSON.stringify(run.config)),
      datasetFingerprint: run.datasetFingerprint,
      status: 'running',
    },
    select: { id: true },
  });
  return created.id;
}

/** Appends one epoch to a run's log (a single UPDATE appending to the JSON array). */
export async function recordEpoch(db: Database, runId: number, epoch: EpochRecord): Promise<void> {
  const rows = await db.query<{ id: number }>(
    'UPDATE training_runs SET epochs = epochs || jsonb_build_array($2::jsonb) WHERE id = $1 RETURNING id',
    [runId, JSON.stringify(epoch)],
  );
  if (rows.length === 0) throw new DatabaseError(`Training run ${runId} does not exist`);
}

/** Marks a run failed (or stopped), keeping its epochs; a successful run is finished by saveModelVersion. */
export async function failTrainingRun(db: Database, runId: number, reason: string): Promise<void> {
  const rows = await db.query<{ id: number }>(
    `UPDATE training_runs SET status = 'failed', finished_at = now() AT TIME ZONE 'UTC',
       summary = summary || jsonb_build_object('error', $2::text)
     WHERE id = $1 RETURNING id`,
    [runId, reason],
  );
  if (rows.length === 0) throw new DatabaseError(`Training run ${runId} does not exist`);
}

/**
 * All versions, newest first, without their parameters: one SQL query (no Prisma on the serving path — the API's
 * `modelVersions` reads this, and Prisma's first query of a model compiles a plan on the event loop).
 */
export async function listModelVersions(db: Database): Promise<ModelVersionInfo[]> {
  const rows = await db.query<VersionRow>(`${VERSION_SELECT} ORDER BY v.id DESC`);
  return rows.map(versionInfo);
}

function parseVersionId(id: number | string): number {
  const n = typeof id === 'number' ? id : Number(id);
  if (!Number.isInteger(n) || n <= 0 || n > 2_147_483_647) {
    throw new ModelVersionNotFoundError(
      `Model version ${JSON.stringify(id)} does not exist: ids are positive integers`,
    );
  }
  return n;
}

/**
 * Makes `id` the active version of its task (and no other version of that task; the other task's active version
 * stays). A nonexistent id throws ModelVersionNotFoundError and leaves everything as it was. The partial unique
 * index model_versions_one_active_per_task guarantees at most one active version per task. Returns its task.
 */
export async function activateModelVersion(db: Database, id: number | string): Promise<ModelTask> {
  const versionId = parseVersionId(id);
  return db.prisma.$transaction(async (tx) => {
    const found = await tx.modelVersion.findUnique({
      where: { id: versionId },
      select: { id: true, task: true },
    });
    if (!found) {
      const active = await tx.modelVersion.findMany({
        where: { active: true },
        select: { id: true, task: true },
      });
      const ids = await tx.modelVersion.findMany({ select: { id: true }, orderBy: { id: 'desc' }, take: 10 });
      const known = ids.length ? `known: ${ids.map((v) => v.id).join(', ')}` : 'there are none yet';
      const serving = active.length ? active.map((v) => `${v.task} version ${v.id}`).join(', ') : 'none';
      throw new ModelVersionNotFoundError(
        `Model version ${versionId} does not exist (${known}); the active models are unchanged (${serving}).`,
      );
    }
    const task = checkTask(found.task, `model version ${versionId}`);
    await tx.modelVersion.updateMany({
      where: { active: true, task, id: { not: versionId } },
      data: { active: false },
    });
    await tx.modelVersion.update({ where: { id: versionId }, data: { active: true } });
    return task;
  }, TRANSACTION_OPTIONS);
}

/** The active version of each task (at most one each), by task: one index scan, cheap enough to poll. */
export async function activeModelVersionIds(db: Database): Promise<Partial<Record<ModelTask, number>>> {
  const rows = await db.query<{ id: number; task: string }>(
    'SELECT id, task FROM model_versions WHERE active ORDER BY task',
  );
  const out: Partial<Record<ModelTask, number>> = {};
  for (const r of rows) out[checkTask(r.task, `model version ${r.id}`)] = r.id;
  return out;
}

/** Id of the active version of `task` (default the rating model), or null. */
export async function activeModelVersionId(db: Database, task: ModelTask = 'rating'): Promise<number | null> {
  return (await activeModelVersionIds(db))[task] ?? null;
}

/** A model_versions row joined with its training run (VERSION_SELECT). */
interface VersionRow {
  id: number;
  engine: string;
  task: string;
  family: string;
  active: boolean;
  created_at: Date;
  factors: number;
  num_users: number;
  num_movies: number;
  config: JsonObject;
  metrics: unknown;
  dataset_fingerprint: string;
  run_id: number | null;
  status: string | null;
  epochs: EpochRecord[] | null;
  summary: JsonObject | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/** VersionRow plus the stored parameters (STORED_SELECT). */
interface StoredRow extends VersionRow {
  artifact: Uint8Array | null;
  global_mean: number | null;
  user_bias: Uint8Array | null;
  movie_bias: Uint8Array | null;
  user_factors: Uint8Array | null;
  movie_factors: Uint8Array | null;
  movie_rank_bias: Uint8Array | null;
  temporal_layout: TemporalLayout | null;
  movie_bin_bias: Uint8Array | null;
  user_drift: Uint8Array | null;
  user_mean_day: Uint8Array | null;
  user_last_time: Uint8Array | null;
  user_day_offsets: Uint8Array | null;
  user_days: Uint8Array | null;
  user_day_bias: Uint8Array | null;
  fold_in_l2: number | null;
  rated_offsets: Uint8Array | null;
  rated_items: Uint8Array | null;
  user_ids: string[] | null;
  movie_ids: string[] | null;
}

/** The active version of `task` (default the rating model), or null when none is active. */
export async function loadActiveModel(db: Database, task: ModelTask = 'rating'): Promise<StoredModel | null> {
  const [row] = await storedRows(db, 'v.active AND v.task = $1', [task]);
  return row ? storedModel(row) : null;
}

/**
 * Every active version (one per task, rating first) as a Recommender of its family. A serving process calls this
 * while it serves: each model is built in its own turn of the event loop, and large columns arrive in pieces.
 * `loaded`: models the caller already holds, by version id — an active one among them is handed back as it is
 * (a version's parameters never change), so activating a rating model does not read the ranking model again.
 */
export async function loadActiveModels(
  db: Database,
  loaded: ReadonlyMap<number, Recommender> = new Map(),
): Promise<{ version: ModelVersionInfo; model: Recommender }[]> {
  const versions = (await db.query<VersionRow>(`${VERSION_SELECT} WHERE v.active ORDER BY v.task DESC`)).map(
    versionInfo,
  );
  const out: { version: ModelVersionInfo; model: Recommender }[] = [];
  for (const version of versions) {
    const held = loaded.get(version.id);
    if (held !== undefined) {
      out.push({ version, model: held });
      continue;
    }
    const [row] = await storedRows(db, 'v.id = $1', [version.id]);
    if (row === undefined) continue; // deleted since the first query: the next poll sees the new state
    await new Promise((resolve) => setImmediate(resolve));
    const stored = storedModel(row);
    out.push({ version: stored.version, model: toRecommender(stored) });
  }
  return out;
}

/** Any version's stored pieces; a nonexistent id throws ModelVersionNotFoundError. */
export async function loadModelVersion(db: Database, id: number | string): Promise<StoredModel> {
  const versionId = parseVersionId(id);
  const [row] = await storedRows(db, 'v.id = $1', [versionId]);
  if (!row) {
    const ids = await db.query<{ id: number }>('SELECT id FROM model_versions ORDER BY id DESC LIMIT 10');
    const known = ids.length ? `known: ${ids.map((v) => v.id).join(', ')}` : 'there are none yet';
    throw new ModelVersionNotFoundError(`Model version ${versionId} does not exist (${known}).`);
  }
  return storedModel(row);
}

// Timestamps are stored as UTC without a zone; AT TIME ZONE 'UTC' hands the drivers an unambiguous instant.
const VERSION_COLUMNS = `v.id, v.engine, v.task, v.family, v.active, v.created_at AT TIME ZONE 'UTC' AS created_at, v.factors,
           v.num_users, v.num_movies, v.config, v.metrics, v.dataset_fingerprint,
           t.id AS run_id, t.status, t.epochs, t.summary, t.started_at AT TIME ZONE 'UTC' AS started_at,
           t.finished_at AT TIME ZONE 'UTC' AS finished_at`;
const VERSION_SELECT = `
    SELECT ${VERSION_COLUMNS}
    FROM model_versions v
    LEFT JOIN training_runs t ON t.model_version_id = v.id`;
/** The bytea columns of a stored model, by table alias: v = model_versions (by id), p = model_parameters. */
const BYTEA_COLUMNS = [
  ['v', 'artifact'],
  ...[
    'user_bias',
    'movie_bias',
    'user_factors',
    'movie_factors',
    'movie_rank_bias',
    'movie_bin_bias',
    'user_drift',
    'user_mean_day',
    'user_last_time',
    'user_day_offsets',
    'user_days',
    'user_day_bias',
    'rated_offsets',
    'rated_items',
  ].map((c) => ['p', c] as const),
] as const;
/**
 * A bytea value longer than this is read in pieces of this size. In one piece, an EASE artifact of 21 MB (42 MB of
 * hex text) took 6.8 s and held the event loop for 2.6 s (pg decodes a DataRow message in one go); in 1 MiB pieces
 * 1.5 s, the longest stall 110 ms (load average 15; the full-size read measured at the same time).
 */
const PIECE_BYTES = 1 << 20;
const STORED_SELECT = `
    SELECT ${VERSION_COLUMNS},
           ${BYTEA_COLUMNS.map(([t, c]) => `CASE WHEN octet_length(${t}.${c}) <= ${PIECE_BYTES} THEN ${t}.${c} END AS ${c}, octet_length(${t}.${c}) AS ${c}_bytes`).join(',\n           ')},
           p.global_mean, p.temporal_layout, p.fold_in_l2, p.user_ids, p.movie_ids
    FROM model_versions v
    LEFT JOIN model_parameters p ON p.model_version_id = v.id
    LEFT JOIN training_runs t ON t.model_version_id = v.id`;

/** STORED_SELECT's rows with every long bytea value read in PIECE_BYTES pieces (substring, one query each). */
async function storedRows(
  db: Database,
  where: string,
  params: readonly unknown[],
  order = '',
): Promise<StoredRow[]> {
  const rows = await db.query<StoredRow & Record<string, unknown>>(
    `${STORED_SELECT} WHERE ${where} ${order}`,
    params,
  );
  for (const row of rows) {
    for (const [table, column] of BYTEA_COLUMNS) {
      const bytes = row[`${column}_bytes`];
      delete row[`${column}_bytes`];
      if (bytes === null || bytes === undefined || row[column] !== null) continue;
      const total = Number(bytes);
      const value = new Uint8Array(total);
      // each piece comes as hex text decoded straight into its place: as bytea, every piece was first a Buffer of
      // its own (1 MiB outside the V8 heap, garbage until the next collection), and an activation's twenty-odd of
      // them could raise malloc's high-water mark by as much for good (the soak: the main arena grew 21 → 39 MB
      // across an EASE activation, bench/results/session9.txt)
      const into = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      const [from, key] = table === 'v' ? ['model_versions', 'id'] : ['model_parameters', 'model_version_id'];
      for (let at = 0; at < total; at += PIECE_BYTES) {
        const [piece] = await db.query<{ h: string }>(
          `SELECT encode(substring(${column} FROM $2 FOR $3), 'hex') AS h FROM ${from} WHERE ${key} = $1`,
          [row.id, at + 1, PIECE_BYTES],
        );
        const expected = Math.min(PIECE_BYTES, total - at);
        if (piece === undefined || typeof piece.h !== 'string' || piece.h.length !== 2 * expected)
          throw new DatabaseError(
            `Model version ${row.id}: ${column} changed while it was read (a version's parameters are written once); the stored model is damaged`,
          );
        into.write(piece.h, at, expected, 'hex');
      }
      row[column] = value;
    }
  }
  return rows;
}

/** A version's description from its row (model_versions joined with its training run). */
function versionInfo(row: VersionRow): ModelVersionInfo {
  const trainingRun: TrainingRunInfo | null =
    row.run_id === null
      ? null
      : {
          id: row.run_id,
          status: row.status ?? 'finished',
          epochs: row.epochs ?? [],
          summary: row.summary ?? {},
          startedAt: row.started_at ?? row.created_at,
          finishedAt: row.finished_at,
        };
  return {
    id: row.id,
    engine: row.engine,
    task: checkTask(row.task, `model version ${row.id}`),
    family: row.family,
    active: row.active,
    createdAt: row.created_at,
    factors: row.factors,
    numUsers: row.num_users,
    numMovies: row.num_movies,
    config: row.config,
    metrics: readMetrics(row.metrics),
    datasetFingerprint: row.dataset_fingerprint,
    trainingRun,
  };
}

function storedModel(row: StoredRow): StoredModel {
  const { id, factors, num_users: numUsers, num_movies: numItems } = row;
  const pieces: Pick<StoredModel, 'params' | 'users' | 'items' | 'artifact'> = {};
  let rated: RatedIndex | null = null;
  if (row.family === 'mf') {
    if (row.global_mean === null)
      throw new DatabaseError(
        `Model version ${id} (family mf) has no model_parameters row; the stored model is damaged`,
      );
    const bytes = (b: Uint8Array | null, n: number, what: string) =>
      float32Of(b ?? new Uint8Array(), n, what, id);
    const params: MFParams = {
      factors,
      numUsers,
      numItems,
      globalMean: row.global_mean,
      userBias: bytes(row.user_bias, numUsers, 'user_bias'),
      itemBias: bytes(row.movie_bias, numItems, 'movie_bias'),
      userFactors: bytes(row.user_factors, numUsers * factors, 'user_factors'),
      itemFactors: bytes(row.movie_factors, numItems * factors, 'movie_factors'),
    };
    if (row.movie_rank_bias !== null) {
      params.itemRankBias = float32Of(row.movie_rank_bias, numItems, 'movie_rank_bias', id);
    }
    if (row.temporal_layout !== null) params.temporal = temporalOf(row, numUsers, numItems);
    const users = IdMap.fromJSON(row.user_ids ?? []);
    const items = IdMap.fromJSON(row.movie_ids ?? []);
    if (users.size !== numUsers || items.size !== numItems) {
      throw new DatabaseError(
        `Model version ${id}: ID maps hold ${users.size} users and ${items.size} movies, expected ${numUsers} and ${numItems}; the stored model is damaged`,
      );
    }
    if (row.rated_offsets !== null && row.rated_items !== null) {
      const offsets = int32Of(row.rated_offsets, numUsers + 1, 'rated_offsets', id);
      const ratedIds = int32Of(row.rated_items, undefined, 'rated_items', id);
      if (offsets[numUsers] !== ratedIds.length)
        throw new DatabaseError(
          `Model version ${id}: rated_offsets ends at ${offsets[numUsers]} but rated_items holds ${ratedIds.length} values; the stored model is damaged`,
        );
      rated = { offsets, items: ratedIds };
    }
    Object.assign(pieces, { params, users, items });
  } else {
    if (row.artifact === null)
      throw new DatabaseError(
        `Model version ${id} (family ${row.family}) has no artifact; the stored model is damaged`,
      );
    pieces.artifact = row.artifact;
  }
  const version = versionInfo(row);
  const { trainingRun, metrics } = version;
  // saveModelVersion keeps a log engine that differs from the version's engine as summary.logEngine
  const { logEngine, ...summary } = trainingRun?.summary ?? {};
  const log: TrainingLog = {
    ...summary,
    engine: typeof logEngine === 'string' ? logEngine : row.engine,
    epochs: trainingRun?.epochs ?? [],
  };
  return {
    version,
    ...pieces,
    config: row.config,
    metrics,
    log,
    rated,
    foldInL2: row.fold_in_l2,
  };
}

/**
 * The Recommender of stored pieces (from loadActiveModel or loadModelVersion), by family: MF from its parameters,
 * any other family through core's registry (deserializeRecommender), so a new family needs no code here.
 */
export function toRecommender(stored: StoredModel): Recommender {
  if (stored.params) return toMFModel(stored);
  const model = deserializeRecommender(stored.artifact!, `model version ${stored.version.id}`);
  if (model.family !== stored.version.family)
    throw new DatabaseError(
      `Model version ${stored.version.id} is stored as family ${stored.version.family} but its artifact is ${model.family}`,
    );
  return model;
}

/** The MFModel of stored MF pieces; a version of another family throws DatabaseError naming it. */
export function toMFModel(stored: StoredModel): MFModel {
  if (!stored.params || !stored.users || !stored.items)
    throw new DatabaseError(
      `Model version ${stored.version.id} is a ${stored.version.family} model, not biased MF (use toRecommender)`,
    );
  const model = new MFModel({
    params: stored.params,
    users: stored.users,
    items: stored.items,
    config: stored.config,
    log: stored.log,
    ...(stored.rated ? { rated: stored.rated } : {}),
  });
  if (stored.foldInL2 !== null) model.foldInL2 = stored.foldInL2;
  return model;
}

/** The active rating model as an MFModel, or null when none is active. */
export async function loadActiveMFModel(
  db: Database,
): Promise<{ model: MFModel; version: ModelVersionInfo } | null> {
  const stored = await loadActiveModel(db, 'rating');
  return stored ? { model: toMFModel(stored), version: stored.version } : null;
}

/** The nullable temporal columns of model_parameters for a model's time-aware terms (all null without them). */
function temporalColumns(tp: TemporalParams | undefined) {
  const f = (a: Float32Array | undefined) => (a ? bytesOf(a) : null);
  const i = (a: Int32Array | undefined) => (a ? bytesOf(a) : null);
  if (!tp) return {};
  return {
    temporalLayout: temporalLayout(tp),
    movieBinBias: f(tp.itemBinBias),
    userDrift: f(tp.userDrift),
    userMeanDay: f(tp.userMeanDay),
    userLastTime: i(tp.userLastTime),
    userDayOffsets: i(tp.dayOffsets),
    userDays: i(tp.days),
    userDayBias: f(tp.dayBias),
  };
}

/** TemporalParams from the stored columns; a length that does not fit the shapes is a DatabaseError. */
function temporalOf(row: StoredRow, numUsers: number, numItems: number): TemporalParams {
  const id = row.id;
  const layout = row.temporal_layout!;
  const tp: TemporalParams = { ...layout };
  if (!(Number.isInteger(tp.bins) && tp.bins >= 1))
    throw new DatabaseError(
      `Model version ${id}: temporal_layout.bins is ${tp.bins}; the stored model is damaged`,
    );
  if (row.movie_bin_bias)
    tp.itemBinBias = float32Of(row.movie_bin_bias, numItems * tp.bins, 'movie_bin_bias', id);
  if (row.user_drift) tp.userDrift = float32Of(row.user_drift, numUsers, 'user_drift', id);
  if (row.user_mean_day) tp.userMeanDay = float32Of(row.user_mean_day, numUsers, 'user_mean_day', id);
  if (row.user_last_time) tp.userLastTime = int32Of(row.user_last_time, numUsers, 'user_last_time', id);
  if (row.user_day_offsets)
    tp.dayOffsets = int32Of(row.user_day_offsets, numUsers + 1, 'user_day_offsets', id);
  if (row.user_days) tp.days = int32Of(row.user_days, undefined, 'user_days', id);
  if (row.user_day_bias && tp.days)
    tp.dayBias = float32Of(row.user_day_bias, tp.days.length, 'user_day_bias', id);
  return tp;
}
