/**
 * GMF, MLP and NeuMF as TensorFlow.js layers models, built as the reference notebook builds its model (Embedding
 * layers looked up by user and movie index) and as the NCF paper's Keras code builds them (He et al., "Neural
 * Collaborative Filtering", WWW 2017; github.com/hexiangnan/neural_collaborative_filtering GMF.py, MLP.py, NeuMF.py):
 *
 *   GMF:    ŷ = σ(h_Gᵀ (p_u^G ⊙ q_i^G) + b)
 *   MLP:    z_1 = [p_u^M, q_i^M];  z_l = ReLU(W_lᵀ z_{l−1} + b_l), l = 1…L−1;  ŷ = σ(h_Mᵀ z_L + b)
 *   NeuMF:  ŷ = σ(hᵀ [p_u^G ⊙ q_i^G, z_L] + b)
 *
 * Initialisers as the paper's code: embeddings N(0, 0.01²), hidden Dense layers Glorot-uniform, the prediction unit
 * LeCun-uniform; every initialiser takes its own seed derived from config.seed, so a seed fixes the start.
 * Weights move to and from core's NcfParams (the native serving model) by layer name.
 */
import type { NcfKind, NcfParams } from '@movierec/core';
import { tf } from '../tfjs/index.ts';
import { predictPairs } from '../tfjs/model.ts';

export const NCF_LAYER = {
  gmfUser: 'gmf_user_embedding',
  gmfItem: 'gmf_item_embedding',
  mlpUser: 'mlp_user_embedding',
  mlpItem: 'mlp_item_embedding',
  /** `${mlpLayer}${l}` for l = 1…L−1. */
  mlpLayer: 'mlp_layer',
  prediction: 'prediction',
} as const;

export interface NcfNetworkConfig {
  kind: NcfKind;
  numUsers: number;
  numItems: number;
  /** GMF embedding size (ignored for MLP). */
  gmfFactors: number;
  /** [2 × MLP embedding, hidden…] as in the paper's code, e.g. [64, 32, 16, 8] (ignored for GMF). */
  layers: readonly number[];
  /** Keras-style L2 on the embeddings (adds l2 · Σ W² per batch); 0 for none (the paper's default). */
  l2?: number;
  seed: number;
}

/** Builds the (uncompiled) network. Inputs: user [batch, 1] int32, item [batch, 1] int32; output ŷ [batch, 1]. */
export function buildNcfModel(config: NcfNetworkConfig): tf.LayersModel {
  const { kind, numUsers, numItems, gmfFactors, layers, seed } = config;
  const reg =
    config.l2 && config.l2 > 0 ? { embeddingsRegularizer: tf.regularizers.l2({ l2: config.l2 }) } : {};
  const user = tf.input({ shape: [1], dtype: 'int32', name: 'user' });
  const item = tf.input({ shape: [1], dtype: 'int32', name: 'item' });
  const embed = (name: string, inputDim: number, outputDim: number, s: number, x: tf.SymbolicTensor) =>
    tf.layers.flatten().apply(
      tf.layers
        .embedding({
          name,
          inputDim,
          outputDim,
          embeddingsInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed: s }),
          ...reg,
        })
        .apply(x),
    ) as tf.SymbolicTensor;
  const parts: tf.SymbolicTensor[] = [];
  if (kind !== 'mlp') {
    const p = embed(NCF_LAYER.gmfUser, numUsers, gmfFactors, seed + 1, user);
    const q = embed(NCF_LAYER.gmfItem, numItems, gmfFactors, seed + 2, item);
    // φ_GMF = p_u ⊙ q_i (eq. 9)
    parts.push(tf.layers.multiply({ name: 'gmf_product' }).apply([p, q]) as tf.SymbolicTensor);
  }
  if (kind !== 'gmf') {
    const half = layers[0]! / 2;
    const p = embed(NCF_LAYER.mlpUser, numUsers, half, seed + 3, user);
    const q = embed(NCF_LAYER.mlpItem, numItems, half, seed + 4, item);
    // z_1 = [p_u^M, q_i^M]; z_l = ReLU(W_lᵀ z_{l−1} + b_l) (eq. 10)
    let z = tf.layers.concatenate({ name: 'mlp_concat' }).apply([p, q]) as tf.SymbolicTensor;
    for (let l = 1; l < layers.length; l++) {
      z = tf.layers
        .dense({
          name: `${NCF_LAYER.mlpLayer}${l}`,
          units: layers[l]!,
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 10 + l }),
        })
        .apply(z) as tf.SymbolicTensor;
    }
    parts.push(z);
  }
  const joined =
    parts.length === 1
      ? parts[0]!
      : (tf.layers.concatenate({ name: 'neumf_concat' }).apply(parts) as tf.SymbolicTensor);
  // ŷ = σ(hᵀ φ + b) (eq. 11)
  const out = tf.layers
    .dense({
      name: NCF_LAYER.prediction,
      units: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.leCunUniform({ seed: seed + 5 }),
    })
    .apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [user, item], outputs: out, name: kind });
}

/**
 * Compiles with the paper's log loss (binary cross-entropy, eq. 7) and its optimiser: Adam for GMF and MLP from
 * scratch, plain SGD for NeuMF after pre-training (section 3.4.1).
 */
export function compileNcf(model: tf.LayersModel, optimizer: 'adam' | 'sgd', learningRate: number): void {
  model.compile({
    // tfjs Adam: m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; w ← w − lr m̂ / (√v̂ + ε)
    optimizer:
      optimizer === 'adam' ? tf.train.adam(learningRate, 0.9, 0.999, 1e-7) : tf.train.sgd(learningRate),
    // L = −(1/B) Σ [y log ŷ + (1 − y) log(1 − ŷ)]
    loss: 'binaryCrossentropy',
  });
}

function weightsOf(model: tf.LayersModel, name: string): Float32Array[] {
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => Float32Array.from(w.dataSync() as Float32Array));
}

/** Reads the network's weights into core's NcfParams (copies). */
export function getNcfWeights(model: tf.LayersModel, config: NcfNetworkConfig): NcfParams {
  const { kind, numUsers, numItems, layers } = config;
  const hasGmf = kind !== 'mlp';
  const hasMlp = kind !== 'gmf';
  const empty = new Float32Array(0);
  const [outKernel, outBias] = weightsOf(model, NCF_LAYER.prediction);
  const kernels: Float32Array[] = [];
  const biases: Float32Array[] = [];
  if (hasMlp)
    for (let l = 1; l < layers.length; l++) {
      const [w, b] = weightsOf(model, `${NCF_LAYER.mlpLayer}${l}`);
      kernels.push(w!);
      biases.push(b!);
    }
  return {
    kind,
    numUsers,
    numItems,
    gmfFactors: hasGmf ? config.gmfFactors : 0,
    layers: hasMlp ? [...layers] : [],
    gmfUser: hasGmf ? weightsOf(model, NCF_LAYER.gmfUser)[0]! : empty,
    gmfItem: hasGmf ? weightsOf(model, NCF_LAYER.gmfItem)[0]! : empty,
    mlpUser: hasMlp ? weightsOf(model, NCF_LAYER.mlpUser)[0]! : empty,
    mlpItem: hasMlp ? weightsOf(model, NCF_LAYER.mlpItem)[0]! : empty,
    mlpKernels: kernels,
    mlpBiases: biases,
    outKernel: outKernel!,
    outBias: outBias![0]!,
  };
}

/** Sets the network's weights from NcfParams of the same kind and shapes. */
export function setNcfWeights(model: tf.LayersModel, params: NcfParams): void {
  const set = (name: string, values: Float32Array[]) => {
    const layer = model.getLayer(name);
    const current = layer.getWeights();
    if (current.length !== values.length)
      throw new Error(`setNcfWeights: layer ${name} has ${current.length} weights, got ${values.length}`);
    tf.tidy(() =>
      layer.setWeights(
        current.map((w, j) => {
          const size = w.shape.reduce((a, b) => a * b, 1);
          if (values[j]!.length !== size)
            throw new Error(
              `setNcfWeights: ${name} weight ${j} has shape [${w.shape}] (${size} values), got ${values[j]!.length}`,
            );
          return tf.tensor(values[j]!, w.shape, 'float32');
        }),
      ),
    );
  };
  const { kind, layers } = params;
  if (kind !== 'mlp') {
    set(NCF_LAYER.gmfUser, [params.gmfUser]);
    set(NCF_LAYER.gmfItem, [params.gmfItem]);
  }
  if (kind !== 'gmf') {
    set(NCF_LAYER.mlpUser, [params.mlpUser]);
    set(NCF_LAYER.mlpItem, [params.mlpItem]);
    for (let l = 1; l < layers.length; l++)
      set(`${NCF_LAYER.mlpLayer}${l}`, [params.mlpKernels[l - 1]!, params.mlpBiases[l - 1]!]);
  }
  set(NCF_LAYER.prediction, [params.outKernel, Float32Array.of(params.outBias)]);
}

/** ŷ for (users[j], items[j]) through model.predict in large batches (tfjs' default of 32 is slow). */
export function predictNcf(
  model: tf.LayersModel,
  users: Int32Array,
  items: Int32Array,
  batchSize = 65_536,
): Float32Array {
  return predictPairs(model, users, items, batchSize);
}
