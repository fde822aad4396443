// A worker thread of the row-parallel engines (the training pool, pool.ts): BPMF's Gibbs sweeps (bpmf/sweeps.ts),
// ALS's half-steps (als.ts) and implicit ALS's (ials.ts), by workerData.kind. Plain JavaScript (it loads the same
// under plain node, tsx and vitest); the maths is bpmf/rows.mjs and ials-rows.mjs, the very code the main thread
// runs with one thread. Every message is one
// step: the worker takes chunks of rows from a shared counter (control[0]) until none is left, then answers 'done'.
//   bpmf { type: 'rows', side: 0 | 1, sweep, alpha, mean }: draw the rows of one side (0 users, 1 items) of chunk c,
//     rows bounds[side][c] … bounds[side][c + 1], given the other side and the prior in `step`.
//   bpmf { type: 'sse', mean }: sse[c] = the training SSE of user chunk c.
//   als { type: 'half', side: 0 | 1 }: solve the rows of one side's chunks given the other side.
//   ials { type: 'gram', side: 0 | 1 }: rows gramBounds[c] … gramBounds[c + 1] of OᵀO, O the side's other side;
//   ials { type: 'rows', side: 0 | 1 }: the CG solves of one side's chunks given O and OᵀO (ials-rows.mjs).
//   ease { type: 'gram' | 'un' | 'update', … }: parts of EASE's Gram and of one block of its sweep (ease-sweep.mjs),
//     on core's gemm module instantiated over the arena's shared WebAssembly.Memory.
import { parentPort, workerData } from 'node:worker_threads';
import { alsRows, alsScratch, rowScratch, sampleRows, sseRows } from './bpmf/rows.mjs';
import {
  blockedGemm64,
  easeGramRows,
  easeUnPart,
  easeUpdatePart,
  easeUpdateParts,
  UN_COLUMNS,
} from './ease-sweep.mjs';
import { ialsGramRows, ialsRows, ialsScratch } from './ials-rows.mjs';

const { control } = workerData;

function take(chunks, run) {
  for (;;) {
    const c = Atomics.add(control, 0, 1);
    if (c >= chunks) return;
    run(c);
  }
}

function bpmfSteps() {
  const { byUser, byItem, U, V, extra, priorShift, step, bounds, sse, d, k, seed, kernel, slots } =
    workerData;
  // kernel (sweeps.ts's RowKernel): the compiled wasm/bpmf-rows.wat (a WebAssembly.Module crosses to a worker) and
  // the shared memory holding U, V and one scratch slot per thread; undefined for the scalar loops
  let place;
  if (kernel) {
    const { module, memory, slotsAt = 0, slotBytes = 0 } = kernel;
    place = memory ? { module, memory, at: slotsAt + Atomics.add(slots, 0, 1) * slotBytes } : { module };
  }
  const scratch = rowScratch(d, place);
  const pu = new Float64Array(k);
  const sides = [
    { start: byUser.start, cols: byUser.cols, values: byUser.values, X: U, Y: V, selfExtra: extra },
    {
      start: byItem.start,
      cols: byItem.cols,
      values: byItem.values,
      X: V,
      Y: U,
      otherExtra: extra,
      priorShift,
    },
  ];
  const lambda = step.subarray(0, d * d);
  const lmu = step.subarray(d * d, d * d + d);
  return (m) => {
    if (m.type === 'rows') {
      const b = bounds[m.side];
      const params = {
        d,
        k,
        mean: m.mean,
        alpha: m.alpha,
        lambda,
        lmu,
        seed,
        sweep: m.sweep,
        sideIndex: m.side,
      };
      take(b.length - 1, (c) => sampleRows(sides[m.side], params, b[c], b[c + 1], scratch));
    } else if (m.type === 'sse') {
      const b = bounds[0];
      take(b.length - 1, (c) => {
        sse[c] = sseRows(byUser, U, V, extra, d, k, m.mean, b[c], b[c + 1], pu, scratch.simd);
      });
    }
  };
}

function alsSteps() {
  const { byUser, byItem, P, Q, bu, bi, bounds, k, mu, lambda, lambdaBias } = workerData;
  const scratch = alsScratch(k);
  const sides = [
    [byUser, P, bu, Q, bi],
    [byItem, Q, bi, P, bu],
  ];
  return (m) => {
    const b = bounds[m.side];
    const [rows, f, fb, g, gb] = sides[m.side];
    take(b.length - 1, (c) =>
      alsRows(rows, f, fb, g, gb, k, mu, lambda, lambdaBias, b[c], b[c + 1], scratch),
    );
  };
}

function ialsSteps() {
  const { byUser, byItem, userConf, itemConf, X, Y, gram, bounds, gramBounds, k, l2, cgSteps } = workerData;
  const scratch = ialsScratch(k);
  const sides = [
    [X, Y, byUser, userConf],
    [Y, X, byItem, itemConf],
  ];
  return (m) => {
    const [target, other, rows, conf] = sides[m.side];
    if (m.type === 'gram')
      take(gramBounds.length - 1, (c) => ialsGramRows(other, k, gram, gramBounds[c], gramBounds[c + 1]));
    else {
      const b = bounds[m.side];
      take(b.length - 1, (c) =>
        ialsRows(target, other, rows, conf, gram, k, l2, cgSteps, b[c], b[c + 1], scratch),
      );
    }
  };
}

function easeSteps() {
  const { memory, module, scratch, layout, nb, offsets, positions, gramBounds } = workerData;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const gemm = blockedGemm64(instance.exports.gemm64, scratch);
  const { mp } = layout;
  const A = new Float64Array(memory.buffer, 0, mp * mp);
  return (m) => {
    if (m.type === 'gram')
      take(gramBounds.length - 1, (c) =>
        easeGramRows(A, mp, offsets, positions, gramBounds[c], gramBounds[c + 1]),
      );
    else if (m.type === 'un') take(Math.ceil(mp / UN_COLUMNS), (c) => easeUnPart(gemm, layout, m.kb, c));
    else take(easeUpdateParts(mp, nb), (i) => easeUpdatePart(gemm, memory.buffer, layout, m.k0, m.kb, nb, i));
  };
}

const steps = { als: alsSteps, ials: ialsSteps, ease: easeSteps, bpmf: bpmfSteps };
const run = (steps[workerData.kind] ?? bpmfSteps)();
parentPort.on('message', (m) => {
  run(m);
  parentPort.postMessage({ type: 'done' });
});
