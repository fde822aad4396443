/**
 * The reference notebook's model in TensorFlow.js layers — biased matrix factorisation
 * (Koren, Bell & Volinsky 2009):  r̂(u,i) = μ + b_u + b_i + p_u · q_i
 * user and movie Embedding layers for the factors (dim k) and for the biases (dim 1), a Dot of the two factor
 * embeddings, an Add of dot and biases, plus the global mean μ (a constant from the training data);
 * optional L2 as Keras' embeddings_regularizer; compiled with Adam and MSE.
 */

import { allocParams, type MFParams } from '@movierec/core';
import * as tf from '@tensorflow/tfjs';

/** Layer names, so weights can be set and read back by name. */
export const LAYER = {
  userFactors: 'user_factors',
  movieFactors: 'movie_factors',
  userBias: 'user_bias',
  movieBias: 'movie_bias',
  globalMean: 'global_mean',
} as const;

export interface TfjsMFConfig {
  numUsers: number;
  numItems: number;
  /** k, the number of latent factors. */
  factors: number;
  /** μ, the global mean rating of the training data (a constant added to every prediction). */
  globalMean: number;
  learningRate: number;
  /** Keras-style L2 on the factor embeddings: adds l2 · Σ W² (whole matrix) to every batch's loss; 0 for none. */
  l2?: number;
  /** The same for the bias embeddings; defaults to 0. */
  l2Bias?: number;
  /** Std-dev of the normal initialiser of the factor embeddings (biases start at 0). */
  initStd?: number;
  seed?: number;
}

/** Adds a fixed scalar (μ) to its input: output = x + μ. */
class AddGlobalMean extends tf.layers.Layer {
  static readonly className = 'AddGlobalMean';
  /** μ; setMFWeights replaces it along with the weights. */
  mean: number;
  constructor(config: { mean: number; name?: string }) {
    super(config.name === undefined ? {} : { name: config.name });
    this.mean = config.mean;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.add(x, tf.scalar(this.mean));
  }
  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return shape;
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean };
  }
}
tf.serialization.registerClass(AddGlobalMean);

/** Builds and compiles the layers model. Inputs: user index [batch, 1] int32, movie index [batch, 1] int32. */
export function buildMFModel(config: TfjsMFConfig): tf.LayersModel {
  const { numUsers, numItems, factors, globalMean, learningRate } = config;
  checkPositiveInt('numUsers', numUsers);
  checkPositiveInt('numItems', numItems);
  checkPositiveInt('factors', factors);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new Error(`buildMFModel: learningRate must be a positive finite number, got ${learningRate}`);
  }
  if (!Number.isFinite(globalMean))
    throw new Error(`buildMFModel: globalMean must be finite, got ${globalMean}`);
  const seed = config.seed ?? 42;
  const stddev = config.initStd ?? 0.05;
  const l2 = config.l2 ?? 0;
  const l2Bias = config.l2Bias ?? 0;

  const user = tf.input({ shape: [1], dtype: 'int32', name: 'user' });
  const movie = tf.input({ shape: [1], dtype: 'int32', name: 'movie' });
  const embed = (
    name: string,
    inputDim: number,
    outputDim: number,
    init: ReturnType<typeof tf.initializers.zeros>,
    reg: number,
  ) =>
    tf.layers.embedding({
      name,
      inputDim,
      outputDim,
      embeddingsInitializer: init,
      ...(reg > 0 ? { embeddingsRegularizer: tf.regularizers.l2({ l2: reg }) } : {}),
    });
  const flat = (x: tf.SymbolicTensor) => tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => flat(layer.apply(x) as tf.SymbolicTensor);

  // p_u and q_i: [batch, k]
  const p = apply(
    embed(LAYER.userFactors, numUsers, factors, tf.initializers.randomNormal({ stddev, seed }), l2),
    user,
  );
  const q = apply(
    embed(
      LAYER.movieFactors,
      numItems,
      factors,
      tf.initializers.randomNormal({ stddev, seed: seed + 1 }),
      l2,
    ),
    movie,
  );
  // b_u and b_i: [batch, 1]
  const bu = apply(embed(LAYER.userBias, numUsers, 1, tf.initializers.zeros(), l2Bias), user);
  const bi = apply(embed(LAYER.movieBias, numItems, 1, tf.initializers.zeros(), l2Bias), movie);
  // p_u · q_i: [batch, 1]
  const dot = tf.layers.dot({ axes: 1, name: 'dot' }).apply([p, q]) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'add' }).apply([dot, bu, bi]) as tf.SymbolicTensor;
  const rating = new AddGlobalMean({ mean: globalMean, name: LAYER.globalMean }).apply(
    sum,
  ) as tf.SymbolicTensor;

  const model = tf.model({ inputs: [user, movie], outputs: rating, name: 'biased_mf' });
  // tfjs Adam: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lr · m̂ / (√v̂ + ε), m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
  model.compile({ optimizer: tf.train.adam(learningRate, 0.9, 0.999, 1e-7), loss: 'meanSquaredError' });
  return model;
}

/** Sets the embedding weights (and the μ constant) from MFParams; shapes must match the model. */
export function setMFWeights(model: tf.LayersModel, params: MFParams): void {
  const { numUsers, numItems, factors } = params;
  const set = (name: string, values: Float32Array, rows: number, cols: number) => {
    const layer = model.getLayer(name);
    const [current] = layer.getWeights();
    const shape = current?.shape ?? [];
    if (shape[0] !== rows || shape[1] !== cols) {
      throw new Error(
        `setMFWeights: layer ${name} has shape [${shape.join(', ')}], params give [${rows}, ${cols}]`,
      );
    }
    if (values.length !== rows * cols) {
      throw new Error(`setMFWeights: ${name} needs ${rows * cols} values, params hold ${values.length}`);
    }
    tf.tidy(() => layer.setWeights([tf.tensor2d(values, [rows, cols], 'float32')]));
  };
  set(LAYER.userFactors, params.userFactors, numUsers, factors);
  set(LAYER.movieFactors, params.itemFactors, numItems, factors);
  set(LAYER.userBias, params.userBias, numUsers, 1);
  set(LAYER.movieBias, params.itemBias, numItems, 1);
  (model.getLayer(LAYER.globalMean) as AddGlobalMean).mean = params.globalMean;
}

/** Reads the learned parameters back from the layers (copies). */
export function getMFWeights(model: tf.LayersModel): MFParams {
  const read = (name: string) => {
    const [w] = model.getLayer(name).getWeights();
    if (!w) throw new Error(`getMFWeights: layer ${name} has no weights`);
    return { shape: w.shape, values: Float32Array.from(w.dataSync() as Float32Array) };
  };
  const uf = read(LAYER.userFactors);
  const mf = read(LAYER.movieFactors);
  const ub = read(LAYER.userBias);
  const mb = read(LAYER.movieBias);
  const numUsers = uf.shape[0]!;
  const numItems = mf.shape[0]!;
  const factors = uf.shape[1]!;
  const mean = (model.getLayer(LAYER.globalMean) as AddGlobalMean).mean;
  const params = allocParams(numUsers, numItems, factors, mean);
  params.userFactors.set(uf.values);
  params.itemFactors.set(mf.values);
  params.userBias.set(ub.values);
  params.itemBias.set(mb.values);
  return params;
}

/** Predicts r̂ for rating rows (users[j], items[j]) in chunks of `batchSize` (tfjs' default of 32 is very slow). */
export function predictMF(
  model: tf.LayersModel,
  users: Int32Array,
  items: Int32Array,
  batchSize = 65_536,
): Float32Array {
  if (users.length !== items.length) {
    throw new Error(`predictMF: users has ${users.length} rows but items has ${items.length}`);
  }
  return predictPairs(model, users, items, batchSize);
}

/** The output of a (user, item)-input layers model for rows (users[j], items[j]), `batchSize` rows at a time. */
export function predictPairs(
  model: tf.LayersModel,
  users: Int32Array,
  items: Int32Array,
  batchSize = 65_536,
): Float32Array {
  const out = new Float32Array(users.length);
  for (let start = 0; start < users.length; start += batchSize) {
    const end = Math.min(users.length, start + batchSize);
    const chunk = tf.tidy(() => {
      const u = tf.tensor2d(users.subarray(start, end), [end - start, 1], 'int32');
      const i = tf.tensor2d(items.subarray(start, end), [end - start, 1], 'int32');
      return (model.predict([u, i], { batchSize: end - start }) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(chunk, start);
  }
  return out;
}

function checkPositiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`buildMFModel: ${name} must be a positive integer, got ${value}`);
  }
}
