import type { MFParams } from '@movierec/core';
import type { RatingColumns } from '@movierec/data';
import { Rng } from '@movierec/data';
import type { Engine, EpochStats, FitOptions, TrainConfig } from '../engine.ts';
import {
  DivergenceError,
  diverged,
  initialParams,
  meanRating,
  TrainingInputError,
  validateTraining,
  yieldToEventLoop,
} from './common.ts';
import { defaultThreads, WorkerPool } from './pool.ts';
import { createSgdEngine } from './sgd.ts';
import {
  type BlockKernels,
  blocksPerSide,
  epochSchedule,
  packByBlocks,
  sgdBlockPassJs,
} from './sgd-blocks.ts';
import { SGD_BLOCKS_WASM_BASE64 } from './sgd-blocks-wasm.ts';
import { compileWasm, packedRowsSize, ptr, WasmArena } from './wasm.ts';

/** The compiled sgd-blocks module, or null where WebAssembly SIMD or shared memory is unavailable. */
const blockModule = () => compileWasm(SGD_BLOCKS_WASM_BASE64);

export interface ParallelSgdOptions {
  /**
   * 'blocks' (default): LIBMF's block scheduling in rounds of independent blocks (src/engines/sgd-blocks.ts);
   * deterministic for a seed, and the same result for any thread count up to 8 (the grid is 16 × 16 blocks up to
   * 8 threads, 2t × 2t beyond). 'hogwild': the same blocks taken in a shuffled order with no rounds (threads race
   * on shared rows: NOT deterministic with more than one thread). 'shuffle': the single-threaded engine of sgd.ts
   * (one global shuffle per epoch; what `batchOrder` needs).
   */
  schedule?: 'blocks' | 'hogwild' | 'shuffle';
  /** 'wasm' (default when WebAssembly SIMD is available) or 'js' (the float64 reference kernel, one thread). */
  kernels?: 'auto' | 'wasm' | 'js';
  /** The worker script (default ./sgd-worker.mjs beside this file); tests substitute one that fails. */
  workerUrl?: URL;
}

export { defaultThreads } from './pool.ts';

/** Fewest ratings per worker thread worth a thread of its own (smaller runs use fewer threads; same results). */
const RATINGS_PER_THREAD = 25_000;

/**
 * Funk/Koren biased SGD (the maths of sgd.ts: learning rate γ = config.learningRate, λ = config.l2 on factors,
 * λ_b = config.l2Bias ?? l2 on biases, μ fixed at the training mean) on `FitOptions.threads` worker threads
 * (default: every core) over parameters in one shared WebAssembly memory, scheduled as LIBMF's blocks
 * (Chin et al. 2015). The epoch loss is the mean of e² over the epoch, each e taken just before its rating's update.
 * Factors are padded to a multiple of 8 inside the kernel memory (the padding stays 0: its updates are 0).
 */
export function createParallelSgdEngine(engineOptions: ParallelSgdOptions = {}): Engine {
  const schedule = engineOptions.schedule ?? 'blocks';
  const shuffleEngine = createSgdEngine(
    engineOptions.kernels === undefined ? {} : { kernels: engineOptions.kernels },
  );
  return {
    name: 'sgd',
    async fit(train: RatingColumns, shape, config: TrainConfig, options: FitOptions = {}): Promise<MFParams> {
      if (schedule === 'shuffle' || options.batchOrder)
        return shuffleEngine.fit(train, shape, config, options);
      validateTraining('sgd', train, shape, config);
      const requested = options.threads ?? defaultThreads();
      if (!(Number.isInteger(requested) && requested >= 1))
        throw new TrainingInputError(`sgd: threads must be a positive integer, got ${requested}`);
      const module = engineOptions.kernels === 'js' ? null : blockModule();
      if (engineOptions.kernels === 'wasm' && !module)
        throw new RangeError(
          'sgd: the wasm kernels need WebAssembly SIMD and shared memory, unavailable here',
        );
      const random = new Rng(config.seed);
      const start = initialParams(shape, config, meanRating(train), options.init, random);
      const n = train.length;
      const k = config.factors;
      const kp = module ? (k + 7) & ~7 : k;
      const { numUsers, numItems } = shape;
      const B = blocksPerSide(requested);
      const threads = module ? Math.max(1, Math.min(requested, Math.floor(n / RATINGS_PER_THREAD))) : 1;

      // one shared memory: P, Q (rows padded to kp), b_u, b_i, packed ratings
      const arena = new WasmArena(
        WasmArena.size(numUsers * kp) +
          WasmArena.size(numItems * kp) +
          WasmArena.size(numUsers) +
          WasmArena.size(numItems) +
          packedRowsSize(n),
        { shared: true },
      );
      const P = arena.f32(numUsers * kp);
      const Q = arena.f32(numItems * kp);
      const bu = arena.f32(numUsers);
      const bi = arena.f32(numItems);
      const packed = arena.i32(3 * n);
      const offsets = { P: ptr(P), Q: ptr(Q), bu: ptr(bu), bi: ptr(bi), rows: ptr(packed) };
      const { memory } = arena;
      for (let u = 0; u < numUsers; u++) P.set(start.userFactors.subarray(u * k, (u + 1) * k), u * kp);
      for (let i = 0; i < numItems; i++) Q.set(start.itemFactors.subarray(i * k, (i + 1) * k), i * kp);
      bu.set(start.userBias);
      bi.set(start.itemBias);
      const layout = packByBlocks(train, shape, B, random, packed);
      const BB = B * B;
      // control words (int32): blockStart (B² + 1), schedule (B²), grab (B²), arrive (B²), progress (1)
      const control = new SharedArrayBuffer(4 * (4 * BB + 2));
      const ctl = new Int32Array(control);
      ctl.set(layout.blockStart, 0);
      const scheduleView = ctl.subarray(BB + 1, 2 * BB + 1);
      const counters = ctl.subarray(2 * BB + 1, 4 * BB + 1);
      const PROGRESS = 4 * BB + 1;
      const blockSse = new SharedArrayBuffer(8 * BB);
      const sse = new Float64Array(blockSse);

      const gamma = config.learningRate;
      const decay = 1 - gamma * config.l2;
      const decayBias = 1 - gamma * (config.l2Bias ?? config.l2);
      const mu = start.globalMean;
      const hyper = { k: kp, mu, gamma, decay, decayBias };
      const mode = schedule;
      const rounds = mode === 'blocks' ? B : 1;
      const perRound = mode === 'blocks' ? B : BB;

      // the parameters onEpoch sees (and the result): views of the kernel memory, compact when kp = k
      const view = (): MFParams =>
        kp === k
          ? { ...start, userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi }
          : {
              ...start,
              userFactors: compact(P, numUsers, kp, k),
              itemFactors: compact(Q, numItems, kp, k),
              userBias: bu,
              itemBias: bi,
            };

      // one thread: the kernels run on this thread between yields; more: worker threads, this thread waits
      const pool =
        threads > 1
          ? new WorkerPool(
              engineOptions.workerUrl ?? new URL('./sgd-worker.mjs', import.meta.url),
              threads,
              { module, memory, control, blockSse, layout: { B, threads, offsets }, hyper },
              'sgd',
            )
          : undefined;
      const kernels = threads > 1 || !module ? undefined : arena.instantiate<BlockKernels>(module);
      const runBlock = (b: number) => {
        const s = layout.blockStart[b]!;
        const e = layout.blockStart[b + 1]!;
        sse[b] = kernels
          ? kernels.sgd_block(
              offsets.P,
              offsets.Q,
              offsets.bu,
              offsets.bi,
              offsets.rows,
              s,
              e,
              kp,
              mu,
              gamma,
              decay,
              decayBias,
            )
          : sgdBlockPassJs(P, Q, bu, bi, packed, s, e, kp, mu, gamma, decay, decayBias);
        return e - s;
      };

      let epochBase = 0;
      let firstMse = 0;
      try {
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          options.signal?.throwIfAborted();
          const t0 = performance.now();
          epochSchedule(layout, random, mode, scheduleView);
          epochBase = epoch * n;
          if (pool) {
            counters.fill(0);
            Atomics.store(ctl, PROGRESS, 0);
            await pool.run(
              { type: 'epoch', rounds, perRound },
              {
                signal: options.signal,
                onTick: () =>
                  options.onProgress?.({
                    done: epochBase + Atomics.load(ctl, PROGRESS),
                    total: config.epochs * n,
                  }),
              },
            );
          } else {
            // progress, abort and the event loop between every B blocks (a round)
            let done = 0;
            for (let j = 0; j < BB; j++) {
              done += runBlock(scheduleView[j]!);
              if ((j + 1) % B === 0 && j + 1 < BB) {
                options.onProgress?.({ done: epochBase + done, total: config.epochs * n });
                await yieldToEventLoop();
                options.signal?.throwIfAborted();
              }
            }
          }
          // loss and divergence in schedule order (the same whatever thread ran which block)
          let total = 0;
          for (let j = 0; j < BB; j++) {
            const b = scheduleView[j]!;
            const count = layout.blockStart[b + 1]! - layout.blockStart[b]!;
            if (count === 0) continue;
            const blockMse = sse[b]! / count;
            if (firstMse === 0) firstMse = blockMse;
            if (diverged(blockMse, firstMse))
              throw new DivergenceError('sgd', epoch + 1, j + 1, blockMse, config);
            total += sse[b]!;
          }
          options.onProgress?.({ done: (epoch + 1) * n, total: config.epochs * n });
          const seconds = (performance.now() - t0) / 1000;
          const stats: EpochStats = {
            epoch: epoch + 1,
            loss: total / n,
            seconds,
            ratingsPerSecond: n / seconds,
          };
          if ((await options.onEpoch?.(stats, view())) === 'stop') break;
          await yieldToEventLoop();
        }
      } finally {
        await pool?.close();
      }
      const out = view();
      return {
        ...start,
        userFactors: kp === k ? out.userFactors.slice() : out.userFactors,
        itemFactors: kp === k ? out.itemFactors.slice() : out.itemFactors,
        userBias: bu.slice(),
        itemBias: bi.slice(),
      };
    },
  };
}

/** Rows of stride `kp` → rows of `k` (drops the kernel's zero padding). */
function compact(a: Float32Array, rows: number, kp: number, k: number): Float32Array {
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(a.subarray(r * kp, r * kp + k), r * k);
  return out;
}

/** The SGD engine train() uses: block-scheduled, on every core by default. */
export const parallelSgdEngine: Engine = createParallelSgdEngine();
