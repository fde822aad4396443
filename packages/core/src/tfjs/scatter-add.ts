/**
 * An O(batch × dim) UnsortedSegmentSum for the wasm and cpu backends.
 *
 * Why: the gradient of gather (what an Embedding layer does) is UnsortedSegmentSum(dy, indices, numRows). The wasm
 * backend does not register that kernel at all, and the cpu backend's runs one pass over the whole batch per segment,
 * O(segments × batch × dim): one 4096-rating batch over 6,040 users took 355 s (../shared/TOOLCHAIN.md).
 * This kernel is a single scatter-add pass instead.
 */
import * as tf from '@tensorflow/tfjs';

type AnyBackend = {
  readSync(dataId: object): tf.backend_util.BackendValues;
  /** cpu: copies `values` into a new tensor. */
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
  /** wasm (the cpu backend has a method of this name with other arguments): allocates on its heap, copies. */
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset: undefined,
    values: tf.TypedArray,
  ): tf.TensorInfo;
};

/** out[s, :] = Σ_{r : segmentIds[r] = s} x[r, :] (TF's UnsortedSegmentSum; ids outside [0, numSegments) are dropped). */
const scatterAdd: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  const b = backend as unknown as AnyBackend;
  const values = b.readSync(x.dataId) as tf.TypedArray;
  const ids = b.readSync(segmentIds.dataId) as Int32Array;
  // segmentIds covers the leading dims of x; each id owns a contiguous row of `row` values.
  const row = ids.length === 0 ? 0 : values.length / ids.length;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * row) : new Float32Array(numSegments * row);
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0, o = s * row, i = r * row; k < row; k++) out[o + k]! += values[i + k]!;
  }
  if ('wasm' in b) return b.makeOutput(outShape, x.dtype, undefined, out);
  return b.makeTensorInfo(outShape, x.dtype, out);
};

/** Replaces UnsortedSegmentSum on the wasm and cpu backends with the scatter-add above (idempotent). */
export function registerScatterAddKernels(): void {
  for (const backendName of ['wasm', 'cpu']) {
    const existing = tf.getKernel(tf.UnsortedSegmentSum, backendName);
    if (existing?.kernelFunc === scatterAdd) continue;
    if (existing) tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc: scatterAdd });
  }
}
