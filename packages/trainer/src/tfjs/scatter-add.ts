/**
 * An O(batch × dim) UnsortedSegmentSum for the wasm and cpu backends.
 *
 * Why: the gradient of gather (what an Embedding layer does) is UnsortedSegmentSum(dy, indices, numRows). The wasm
 * backend does not register that kernel at all, and the cpu backend's runs one pass over the whole batch per segment,
 * O(segments × batch × dim): one 4096-rating batch over 6,040 users took 355 s (../shared/TOOLCHAIN.md).
 * This kernel is a single scatter-add pass instead: O(batch × dim), plus zeroing the O(segments × dim) output.
 */
import * as tf from '@tensorflow/tfjs';

type CpuBackend = {
  readSync(dataId: object): tf.backend_util.BackendValues;
  /** Wraps `values` as a new tensor. */
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
};
type WasmBackend = {
  wasm: unknown;
  /** Allocates an output on the wasm heap (uninitialised). The cpu backend has a method of this name too. */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view of a tensor's memory on the wasm heap. */
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
};

/** out[s, :] += x[r, :] for every r with ids[r] = s in [0, numSegments) (ids outside are dropped, as in TF). */
function accumulate(
  x: tf.TypedArray,
  ids: Int32Array,
  out: tf.TypedArray,
  numSegments: number,
  row: number,
): void {
  for (let r = 0; r < ids.length; r++) {
    const s = ids[r]!;
    if (s < 0 || s >= numSegments) continue;
    for (let k = 0, o = s * row, i = r * row; k < row; k++) out[o + k]! += x[i + k]!;
  }
}

/** UnsortedSegmentSum: out[s, :] = Σ_{r : segmentIds[r] = s} x[r, :]  (one pass over x). */
const scatterAdd: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as unknown as { numSegments: number }).numSegments;
  // segmentIds covers the leading dims of x; each id owns a contiguous row of `row` values.
  const numIds = tf.util.sizeFromShape(segmentIds.shape);
  const row = numIds === 0 ? 0 : tf.util.sizeFromShape(x.shape) / numIds;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  if ('wasm' in (backend as object)) {
    // work on the wasm heap directly: no copies in or out (allocate first — heap growth detaches older views)
    const b = backend as unknown as WasmBackend;
    const out = b.makeOutput(outShape, x.dtype);
    const outValues = b.typedArrayFromHeap(out).fill(0);
    accumulate(
      b.typedArrayFromHeap(x),
      b.typedArrayFromHeap(segmentIds) as Int32Array,
      outValues,
      numSegments,
      row,
    );
    return out;
  }
  const b = backend as unknown as CpuBackend;
  const outValues =
    x.dtype === 'int32' ? new Int32Array(numSegments * row) : new Float32Array(numSegments * row);
  const ids = b.readSync(segmentIds.dataId) as Int32Array;
  accumulate(b.readSync(x.dataId) as tf.TypedArray, ids, outValues, numSegments, row);
  return b.makeTensorInfo(outShape, x.dtype, outValues);
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
