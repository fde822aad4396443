import { allocParams, type MFParams } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import type { TrainConfig } from '../engine.ts';

/** Training stopped because the loss became NaN or ±Infinity. */
export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
  constructor(
    readonly engine: string,
    readonly epoch: number,
    readonly batch: number,
    readonly loss: number,
    config: TrainConfig,
  ) {
    const advice =
      engine === 'als'
        ? `increase l2 (now ${config.l2})`
        : `the learning rate ${config.learningRate} is too high for this data: lower it (try ${config.learningRate / 10})` +
          `${config.l2 > 0 ? '' : ' or add L2 regularisation (l2 > 0)'}`;
    super(
      `${engine}: training diverged — the loss became ${loss} at epoch ${epoch}, batch ${batch}; ${advice}.`,
    );
  }
}

/**
 * Divergence test: the loss is NaN/±Infinity, or has grown beyond 10⁴ × the first batch's loss (a model whose
 * predictions are off by ~100× the initial error is not converging; a finite but exploding Adam run ends here).
 */
export function diverged(loss: number, firstLoss: number): boolean {
  return !Number.isFinite(loss) || (firstLoss > 0 && loss > 1e4 * firstLoss);
}

/** Bad training input or configuration. */
export class TrainingInputError extends Error {
  override readonly name = 'TrainingInputError';
}

/** μ = mean of the training ratings (a fixed constant of the model, not learned). */
export function meanRating(train: RatingColumns): number {
  let s = 0;
  for (let r = 0; r < train.length; r++) s += train.ratings[r]!;
  return s / train.length;
}

/** Checks the columns, the shape and the configuration; throws TrainingInputError naming the field. */
export function validateTraining(
  engine: string,
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
): void {
  const fail = (msg: string): never => {
    throw new TrainingInputError(`${engine}: ${msg}`);
  };
  if (train.length === 0) fail('there are no ratings to train on (the training set is empty)');
  const positiveInt = (name: string, v: number) => {
    if (!(Number.isInteger(v) && v >= 1)) fail(`config.${name} must be a positive integer, got ${v}`);
  };
  positiveInt('factors', config.factors);
  positiveInt('epochs', config.epochs);
  if (config.optimizer !== 'als') positiveInt('batchSize', config.batchSize);
  if (config.optimizer !== 'als' && !(config.learningRate > 0 && Number.isFinite(config.learningRate)))
    fail(`config.learningRate must be a positive finite number, got ${config.learningRate}`);
  if (!(config.l2 >= 0 && Number.isFinite(config.l2))) fail(`config.l2 must be ≥ 0, got ${config.l2}`);
  if (config.l2Bias !== undefined && !(config.l2Bias >= 0 && Number.isFinite(config.l2Bias)))
    fail(`config.l2Bias must be ≥ 0, got ${config.l2Bias}`);
  if (!(config.initStd >= 0 && Number.isFinite(config.initStd)))
    fail(`config.initStd must be ≥ 0, got ${config.initStd}`);
  const { numUsers, numItems } = shape;
  let otherUser = false;
  const u0 = train.users[0]!;
  for (let r = 0; r < train.length; r++) {
    const u = train.users[r]!;
    const i = train.items[r]!;
    const y = train.ratings[r]!;
    if (!(u >= 0 && u < numUsers)) fail(`rating row ${r} has user index ${u}, outside 0…${numUsers - 1}`);
    if (!(i >= 0 && i < numItems)) fail(`rating row ${r} has item index ${i}, outside 0…${numItems - 1}`);
    if (!Number.isFinite(y)) fail(`rating row ${r} has rating ${y}`);
    if (u !== u0) otherUser = true;
  }
  if (!otherUser)
    fail(
      `all ${train.length} ratings come from a single user (index ${u0}); matrix factorisation needs ratings from at least two users`,
    );
}

/** Fills `a` with initial factors per TrainConfig.init: U(−√3σ, √3σ) or N(0, σ²). */
export function fillInitialFactors(
  a: Float32Array,
  random: Rng,
  std: number,
  kind: 'uniform' | 'normal' = 'normal',
): void {
  if (kind === 'uniform') {
    const half = Math.sqrt(3) * std;
    for (let j = 0; j < a.length; j++) a[j] = (random.uniform() * 2 - 1) * half;
  } else {
    for (let j = 0; j < a.length; j++) a[j] = random.normal() * std;
  }
}

/** Initial parameters: a copy of `init` when given (shapes checked), else seeded factors and zero biases. */
export function initialParams(
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  mean: number,
  init: MFParams | undefined,
  random: Rng,
): MFParams {
  const params = allocParams(shape.numUsers, shape.numItems, config.factors, mean);
  if (init) {
    if (
      init.numUsers !== shape.numUsers ||
      init.numItems !== shape.numItems ||
      init.factors !== config.factors
    )
      throw new TrainingInputError(
        `init parameters are ${init.numUsers} users × ${init.numItems} items × ${init.factors} factors, ` +
          `training needs ${shape.numUsers} × ${shape.numItems} × ${config.factors}`,
      );
    params.userBias.set(init.userBias);
    params.itemBias.set(init.itemBias);
    params.userFactors.set(init.userFactors);
    params.itemFactors.set(init.itemFactors);
    return params;
  }
  fillInitialFactors(params.userFactors, random, config.initStd, config.init);
  fillInitialFactors(params.itemFactors, random, config.initStd, config.init);
  return params;
}

/**
 * The seeded start every MF engine shares: one Rng(config.seed), which draws the initial factors first (and then
 * whatever the engine draws next, e.g. each epoch's shuffle), μ = meanRating(train), and initialParams around it.
 */
export function seededStart(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  init: MFParams | undefined,
): { random: Rng; mean: number; start: MFParams } {
  const random = new Rng(config.seed);
  const mean = meanRating(train);
  return { random, mean, start: initialParams(shape, config, mean, init, random) };
}

/** The row order for an epoch: the caller's, checked, or a seeded shuffle. */
export function epochOrder(
  n: number,
  epoch: number,
  random: Rng,
  batchOrder: ((epoch: number) => Int32Array) | undefined,
  scratch: Int32Array,
): Int32Array {
  if (batchOrder) {
    const order = batchOrder(epoch);
    if (order.length !== n)
      throw new TrainingInputError(`batchOrder(${epoch}) returned ${order.length} rows, expected ${n}`);
    return order;
  }
  for (let j = 0; j < n; j++) scratch[j] = j;
  return random.shuffle(scratch);
}

/** Lets timers, I/O and abort handlers run between chunks of a long epoch. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
