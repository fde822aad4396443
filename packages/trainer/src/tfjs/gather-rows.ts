/**
 * A row-copy GatherV2 for the wasm backend (the forward pass of an Embedding layer).
 *
 * Why: tfjs-backend-wasm's Gather computes every output element's source offset from strides; measured here it takes
 * ~7 ms of CPU for 4,096 rows of 32 floats (a memcpy-sized job); the two factor lookups were about half of a
 * 4,096-rating training step. Embedding lookups are the simple case — axis 0, no batch dims — which this kernel
 * does as one copy per row; anything else goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';

type WasmBackend = {
  wasm: unknown;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
  disposeData(dataId: object): boolean;
};

let stock: tf.KernelConfig | undefined;

/** out[j, :] = x[indices[j], :]  (tf.gather(x, indices, axis 0)), with tfjs' bounds check on every index. */
const gatherRows: tf.KernelFunc = (args) => {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
  const simple = (axis === 0 || axis === -x.shape.length) && !batchDims && x.shape.length >= 1;
  if (!simple || indices.dtype !== 'int32' || (x.dtype !== 'float32' && x.dtype !== 'int32')) {
    return stock!.kernelFunc(args);
  }
  const b = args.backend as unknown as WasmBackend;
  const rows = x.shape[0]!;
  const row = tf.util.sizeFromShape(x.shape.slice(1));
  const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  // views after the allocation: growing the wasm heap would detach views taken before it
  const src = b.typedArrayFromHeap(x);
  const ids = b.typedArrayFromHeap(indices) as Int32Array;
  const dst = b.typedArrayFromHeap(out);
  for (let j = 0; j < ids.length; j++) {
    const s = ids[j]!;
    if (!(s >= 0 && s < rows)) {
      b.disposeData(out.dataId);
      throw new Error(`GatherV2: the index value ${s} is not in [0, ${rows - 1}]`);
    }
  }
  if (row >= 8) {
    // source and output live in the same wasm heap: copyWithin is a memmove per row (4-byte elements, bit copies)
    const heap = new Int32Array(src.buffer);
    const from = src.byteOffset >> 2;
    const to = dst.byteOffset >> 2;
    for (let j = 0; j < ids.length; j++) {
      const i = from + ids[j]! * row;
      heap.copyWithin(to + j * row, i, i + row);
    }
  } else {
    for (let j = 0; j < ids.length; j++) {
      for (let k = 0, o = j * row, i = ids[j]! * row; k < row; k++) dst[o + k] = src[i + k]!;
    }
  }
  return out;
};

/** Replaces GatherV2 on the wasm backend with gatherRows (idempotent; call after the wasm backend is imported). */
export function registerGatherRowsKernel(): void {
  const existing = tf.getKernel(tf.GatherV2, 'wasm');
  if (!existing || existing.kernelFunc === gatherRows) return;
  stock = existing;
  tf.unregisterKernel(tf.GatherV2, 'wasm');
  tf.registerKernel({ ...existing, kernelFunc: gatherRows });
}
