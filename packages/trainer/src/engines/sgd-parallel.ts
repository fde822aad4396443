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

      // one shared memory: P, Q (rows padded to kp), b_u, b_i, packed ratings; each array on its own cache lines
      const arena = new WasmArena(
        lineAligned(numUsers * kp) +
          lineAligned(numItems * kp) +
          lineAligned(numUsers) +
          lineAligned(numItems) +
          packedRowsSize(n),
        { shared: true },
      );
      const P = alignedF32(arena, numUsers * kp);
      const Q = alignedF32(arena, numItems * kp);
      const bu = alignedF32(arena, numUsers);
      const bi = alignedF32(arena, numItems);
      const packed = arena.i32(3 * n);
      const offsets = { P: ptr(P), Q: ptr(Q), bu: ptr(bu), bi: ptr(bi), rows: ptr(packed) };
      const { memory } = arena;
      const layout = packByBlocks(train, shape, B, random, packed);
      const { userSlot, itemSlot } = layout;
      // the kernels index rows by slot (block by block: sgd-blocks.ts)
      for (let u = 0; u < numUsers; u++) {
        P.set(start.userFactors.subarray(u * k, (u + 1) * k), userSlot[u]! * kp);
        bu[userSlot[u]!] = start.userBias[u]!;
      }
      for (let i = 0; i < numItems; i++) {
        Q.set(start.itemFactors.subarray(i * k, (i + 1) * k), itemSlot[i]! * kp);
        bi[itemSlot[i]!] = start.itemBias[i]!;
      }
      const BB = B * B;
      const words = controlWords(B);
      const ctl = new Int32Array(new SharedArrayBuffer(4 * words.SIZE));
      ctl.set(layout.blockStart, words.START);
      const scheduleSlot = (epoch: number) =>
        ctl.subarray(words.SCHEDULE + (epoch & 1) * BB, words.SCHEDULE + ((epoch & 1) + 1) * BB);
      const blockSse = new SharedArrayBuffer(8 * BB);
      const sse = new Float64Array(blockSse);

      const gamma = config.learningRate;
      const decay = 1 - gamma * config.l2;
      const decayBias = 1 - gamma * (config.l2Bias ?? config.l2);
      const mu = start.globalMean;
      const hyper = { k: kp, mu, gamma, decay, decayBias };
      const mode = schedule;

      // the parameters in user and item order (onEpoch's, built only when read, and the result)
      const userFactors = () => unslot(P, userSlot, kp, k);
      const itemFactors = () => unslot(Q, itemSlot, kp, k);
      const userBias = () => unslot(bu, userSlot, 1, 1);
      const itemBias = () => unslot(bi, itemSlot, 1, 1);
      const view = (): MFParams => lazyParams(start, { userFactors, itemFactors, userBias, itemBias });

      // one thread: the kernels run on this thread between yields; more: worker threads that run every epoch this
      // thread releases (sgd-worker.mjs), this thread waiting on the control words without blocking
      const pool =
        threads > 1
          ? new WorkerPool(
              engineOptions.workerUrl ?? new URL('./sgd-worker.mjs', import.meta.url),
              threads,
              {
                module,
                memory,
                control: ctl.buffer,
                blockSse,
                layout: { B, threads, mode, offsets, words },
                hyper,
              },
              'sgd',
            )
          : undefined;
      let stopped = false;
      /** Resolves once ctl[FINISHED] ≥ target, or the fit has stopped (Atomics.waitAsync: this thread never blocks). */
      const finished = async (target: number) => {
        for (;;) {
          const seen = Atomics.load(ctl, words.FINISHED);
          if (seen >= target || stopped) return;
          const wait = waitAsync(ctl, words.FINISHED, seen);
          if (wait.async) await wait.value;
        }
      };
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
        // the generator draws each epoch's schedule in epoch order; the next one is drawn while workers run this one
        if (config.epochs > 0) epochSchedule(layout, random, mode, scheduleSlot(0));
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          options.signal?.throwIfAborted();
          const t0 = performance.now();
          const order = scheduleSlot(epoch);
          epochBase = epoch * n;
          if (pool) {
            // release the epoch: its grab counter starts at 0 (the other slot's epoch is over)
            Atomics.store(ctl, words.GRAB + (epoch & 1) * words.LINE, 0);
            Atomics.store(ctl, words.PROGRESS, 0);
            Atomics.store(ctl, words.GO, epoch + 1);
            Atomics.notify(ctl, words.GO);
            if (epoch + 1 < config.epochs) epochSchedule(layout, random, mode, scheduleSlot(epoch + 1));
            await pool.until(
              finished(threads * (epoch + 1)),
              {
                signal: options.signal,
                onTick: () =>
                  options.onProgress?.({
                    done: epochBase + Atomics.load(ctl, words.PROGRESS),
                    total: config.epochs * n,
                  }),
              },
              // the workers' one message, once a failing worker's error has a listener
              epoch === 0 ? () => pool.post({ type: 'start' }) : undefined,
            );
          } else {
            // progress, abort and the event loop between every B blocks (a round)
            let done = 0;
            for (let j = 0; j < BB; j++) {
              done += runBlock(order[j]!);
              if ((j + 1) % B === 0 && j + 1 < BB) {
                options.onProgress?.({ done: epochBase + done, total: config.epochs * n });
                await yieldToEventLoop();
                options.signal?.throwIfAborted();
              }
            }
            if (epoch + 1 < config.epochs) epochSchedule(layout, random, mode, scheduleSlot(epoch + 1));
          }
          // loss and divergence in schedule order (the same whatever thread ran which block)
          let total = 0;
          for (let j = 0; j < BB; j++) {
            const b = order[j]!;
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
          // (with workers this thread waited in the event loop the whole epoch)
          if (!pool) await yieldToEventLoop();
        }
      } finally {
        stopped = true;
        Atomics.notify(ctl, words.FINISHED);
        await pool?.close();
      }
      return {
        ...start,
        userFactors: userFactors(),
        itemFactors: itemFactors(),
        userBias: userBias(),
        itemBias: itemBias(),
      };
    },
  };
}

/** The kernel memory's rows (stride `kp`, row r at slot[r]) in row order with stride `k` (drops the padding). */
function unslot(a: Float32Array, slot: Int32Array, kp: number, k: number): Float32Array {
  const out = new Float32Array(slot.length * k);
  if (k === 1) for (let r = 0; r < slot.length; r++) out[r] = a[slot[r]!]!;
  else for (let r = 0; r < slot.length; r++) out.set(a.subarray(slot[r]! * kp, slot[r]! * kp + k), r * k);
  return out;
}

/** `start` with the four parameter arrays built on first read (onEpoch callbacks that look at none cost nothing). */
function lazyParams(
  start: MFParams,
  build: Record<'userFactors' | 'itemFactors' | 'userBias' | 'itemBias', () => Float32Array>,
): MFParams {
  const params = { ...start };
  for (const key of ['userFactors', 'itemFactors', 'userBias', 'itemBias'] as const) {
    let value: Float32Array | undefined;
    Object.defineProperty(params, key, {
      enumerable: true,
      get: () => {
        value ??= build[key]();
        return value;
      },
    });
  }
  return params;
}

/** int32 words per 64-byte cache line: the words threads write often each get a line of their own. */
const LINE = 16;

/**
 * The control words the engine and sgd-worker.mjs share (int32 offsets; the worker's header says what each means):
 * go, finished, progress and the two grab counters a line each, then rowDone and colDone (B lines each), then the
 * read-mostly block starts (B² + 1) and the two schedule slots (B² each, epoch e uses slot e mod 2).
 */
function controlWords(B: number) {
  const GO = 0;
  const FINISHED = LINE;
  const PROGRESS = 2 * LINE;
  const GRAB = 3 * LINE;
  const ROW_DONE = 5 * LINE;
  const COL_DONE = ROW_DONE + B * LINE;
  const START = COL_DONE + B * LINE;
  const SCHEDULE = START + B * B + 1;
  const SIZE = SCHEDULE + 2 * B * B;
  return { LINE, GO, FINISHED, PROGRESS, GRAB, ROW_DONE, COL_DONE, START, SCHEDULE, SIZE };
}

/** Bytes for `count` floats starting on a 64-byte line (alignedF32). */
const lineAligned = (count: number) => WasmArena.size(count + LINE);

/** `count` floats from the arena, starting on a 64-byte cache line. */
function alignedF32(arena: WasmArena, count: number): Float32Array {
  const room = arena.f32(count + LINE);
  const skip = ((64 - (room.byteOffset % 64)) % 64) / 4;
  return room.subarray(skip, skip + count);
}

/** Atomics.waitAsync (ES2024; Node ≥ 16), typed here because the project's lib is ES2023. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** The SGD engine train() uses: block-scheduled, on every core by default. */
export const parallelSgdEngine: Engine = createParallelSgdEngine();
