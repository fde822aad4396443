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
   * 8 threads, B × B beyond, B the power of two ≥ 2t). 'hogwild': the same blocks taken in a shuffled order with no
   * rounds (threads race on shared rows: NOT deterministic with more than one thread). 'shuffle': the
   * single-threaded engine of sgd.ts (one global shuffle per epoch; what `batchOrder` needs).
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

      const pooled = threads > 1;
      // blocks on workers with an onEpoch: each epoch's parameters are copied aside as the next epoch starts
      // (see the worker's header), so the workers never wait for this thread's onEpoch
      const snapshots = pooled && schedule === 'blocks' && options.onEpoch !== undefined;
      // one shared memory: P, Q (rows padded to kp), b_u, b_i (and two snapshots of them), packed ratings; each
      // array on its own cache lines
      const arena = new WasmArena(
        (snapshots ? 3 : 1) *
          (lineAligned(numUsers * kp) +
            lineAligned(numItems * kp) +
            lineAligned(numUsers) +
            lineAligned(numItems)) +
          packedRowsSize(n),
        { shared: true },
      );
      const live = paramArrays(arena, numUsers, numItems, kp);
      const { P, Q, bu, bi } = live;
      const saved = snapshots
        ? [paramArrays(arena, numUsers, numItems, kp), paramArrays(arena, numUsers, numItems, kp)]
        : [];
      const packed = arena.i32(3 * n);
      const offsets = {
        P: ptr(P),
        Q: ptr(Q),
        bu: ptr(bu),
        bi: ptr(bi),
        rows: ptr(packed),
        saved: saved.map((v) => ({ P: ptr(v.P), Q: ptr(v.Q), bu: ptr(v.bu), bi: ptr(v.bi) })),
      };
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
      ctl.set(firstSlots(layout.userBlock, B), words.USER_SLOTS);
      ctl.set(firstSlots(layout.itemBlock, B), words.ITEM_SLOTS);
      const scheduleSlot = (epoch: number) =>
        ctl.subarray(words.SCHEDULE + (epoch & 1) * BB, words.SCHEDULE + ((epoch & 1) + 1) * BB);
      const drawSchedule = (epoch: number) => epochSchedule(layout, random, mode, scheduleSlot(epoch));
      // Σe² per block, epoch e in half e mod 2
      const blockSse = new SharedArrayBuffer(16 * BB);
      const sse = new Float64Array(blockSse);
      const sseOf = (epoch: number) => sse.subarray((epoch & 1) * BB, ((epoch & 1) + 1) * BB);

      const gamma = config.learningRate;
      const decay = 1 - gamma * config.l2;
      const decayBias = 1 - gamma * (config.l2Bias ?? config.l2);
      const mu = start.globalMean;
      const hyper = { k: kp, mu, gamma, decay, decayBias };
      const mode = schedule;
      // workers start epoch e only once this thread has read epoch e − lag (its losses, its parameters): blocks
      // run two epochs ahead at most (each epoch's losses and snapshot in a slot of two), Hogwild's rows are read
      // in place, so it waits for each epoch to be read
      const lag = mode === 'blocks' ? 2 : 1;

      // the parameters in user and item order (onEpoch's, built only when read, and the result)
      const inOrder = (v: ParamArrays) => ({
        userFactors: () => unslot(v.P, userSlot, kp, k),
        itemFactors: () => unslot(v.Q, itemSlot, kp, k),
        userBias: () => unslot(v.bu, userSlot, 1, 1),
        itemBias: () => unslot(v.bi, itemSlot, 1, 1),
      });

      // one thread: the kernels run on this thread between yields; more: worker threads that run every epoch on
      // their own after one message (sgd-worker.mjs), this thread waiting on the control words without blocking
      const pool = pooled
        ? new WorkerPool(
            engineOptions.workerUrl ?? new URL('./sgd-worker.mjs', import.meta.url),
            threads,
            {
              module,
              memory,
              control: ctl.buffer,
              blockSse,
              layout: { B, threads, mode, lag, epochs: config.epochs, snapshots, offsets, words },
              hyper,
            },
            'sgd',
          )
        : undefined;
      let stopped = false;
      /** Resolves once ctl[word] ≥ target, or the fit has stopped (Atomics.waitAsync: this thread never blocks). */
      const reached = async (word: number, target: number) => {
        for (;;) {
          const seen = Atomics.load(ctl, word);
          if (seen >= target || stopped) return;
          const wait = waitAsync(ctl, word, seen);
          if (wait.async) await wait.value;
        }
      };
      const kernels = pooled || !module ? undefined : arena.instantiate<BlockKernels>(module);
      const runBlock = (b: number, into: Float64Array) => {
        const s = layout.blockStart[b]!;
        const e = layout.blockStart[b + 1]!;
        into[b] = kernels
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

      let firstMse = 0;
      let result: ParamArrays = live;
      try {
        // the generator draws the schedules in epoch order, `lag` epochs ahead of the workers
        for (let e = 0; e < Math.min(lag, config.epochs); e++) drawSchedule(e);
        let t0 = performance.now();
        for (let epoch = 0; epoch < config.epochs; epoch++) {
          options.signal?.throwIfAborted();
          const order = scheduleSlot(epoch);
          const last = epoch + 1 === config.epochs;
          if (pool) {
            const progress = {
              signal: options.signal,
              onTick: () =>
                options.onProgress?.({
                  done: Math.min(Atomics.load(ctl, words.PROGRESS), config.epochs * n),
                  total: config.epochs * n,
                }),
            };
            // the workers' one message, once a failing worker's error has a listener
            // epochs overlap, so blocks are counted per epoch parity (epochs e and e + 2 never overlap). With
            // snapshots, this epoch's parameters are complete in their slot once the next epoch's first round has
            // copied them, which comes after every block of this epoch: one wake-up per epoch instead of two (each
            // takes a core from a worker)
            const parity = (epoch & 1) * words.LINE;
            await pool.until(
              snapshots && !last
                ? reached(words.SAVED + parity, ((epoch >> 1) + 1) * 2 * B)
                : reached(words.DONE + parity, ((epoch >> 1) + 1) * BB),
              progress,
              epoch === 0 ? () => pool.post({ type: 'start' }) : undefined,
            );
          } else {
            // progress, abort and the event loop between every B blocks (a round)
            let done = 0;
            for (let j = 0; j < BB; j++) {
              done += runBlock(order[j]!, sseOf(epoch));
              if ((j + 1) % B === 0 && j + 1 < BB) {
                options.onProgress?.({ done: epoch * n + done, total: config.epochs * n });
                await yieldToEventLoop();
                options.signal?.throwIfAborted();
              }
            }
          }
          // loss and divergence in schedule order (the same whatever thread ran which block)
          const blockSums = sseOf(epoch);
          let total = 0;
          for (let j = 0; j < BB; j++) {
            const b = order[j]!;
            const count = layout.blockStart[b + 1]! - layout.blockStart[b]!;
            if (count === 0) continue;
            const blockMse = blockSums[b]! / count;
            if (firstMse === 0) firstMse = blockMse;
            if (diverged(blockMse, firstMse))
              throw new DivergenceError('sgd', epoch + 1, j + 1, blockMse, config);
            total += blockSums[b]!;
          }
          options.onProgress?.({ done: (epoch + 1) * n, total: config.epochs * n });
          // with workers, epochs overlap this thread's reading of them: an epoch's time is from the previous one's
          // end to its own
          const now = performance.now();
          const seconds = (now - t0) / 1000;
          t0 = now;
          const stats: EpochStats = {
            epoch: epoch + 1,
            loss: total / n,
            seconds,
            ratingsPerSecond: n / seconds,
          };
          const current = snapshots && !last ? saved[epoch & 1]! : live;
          if (
            options.onEpoch &&
            (await options.onEpoch(stats, lazyParams(start, inOrder(current)))) === 'stop'
          ) {
            result = current;
            break;
          }
          // the schedule slot and loss half of this epoch are free: draw epoch + lag's, then let the workers on
          if (epoch + lag < config.epochs) drawSchedule(epoch + lag);
          Atomics.store(ctl, words.READ, epoch + 1);
          Atomics.notify(ctl, words.READ);
          // (with workers this thread waited in the event loop the whole epoch)
          if (!pool) await yieldToEventLoop();
        }
      } finally {
        stopped = true;
        for (const word of [words.DONE, words.DONE + LINE, words.SAVED, words.SAVED + LINE])
          Atomics.notify(ctl, word);
        await pool?.close();
      }
      const out = inOrder(result);
      return {
        ...start,
        userFactors: out.userFactors(),
        itemFactors: out.itemFactors(),
        userBias: out.userBias(),
        itemBias: out.itemBias(),
      };
    },
  };
}

interface ParamArrays {
  P: Float32Array;
  Q: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

/** P, Q (rows of kp), b_u, b_i from the arena, each on its own cache lines. */
function paramArrays(arena: WasmArena, numUsers: number, numItems: number, kp: number): ParamArrays {
  return {
    P: alignedF32(arena, numUsers * kp),
    Q: alignedF32(arena, numItems * kp),
    bu: alignedF32(arena, numUsers),
    bi: alignedF32(arena, numItems),
  };
}

/** The first slot of each of the B blocks, and the slot count at the end (B + 1 values; slotsByBlock's order). */
function firstSlots(block: Int32Array, B: number): Int32Array {
  const first = new Int32Array(B + 1);
  for (let r = 0; r < block.length; r++) first[block[r]! + 1]!++;
  for (let b = 0; b < B; b++) first[b + 1]! += first[b]!;
  return first;
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
 * grab, done (two: epochs of each parity), saved (two), read and progress a line each, then rowDone and colDone
 * (B lines each), then the read-mostly block starts (B² + 1), the first slots of the user and item blocks (B + 1
 * each) and the two schedule slots (B² each, epoch e uses slot e mod 2).
 */
function controlWords(B: number) {
  const GRAB = 0;
  const DONE = LINE;
  const SAVED = 3 * LINE;
  const READ = 5 * LINE;
  const PROGRESS = 6 * LINE;
  const ROW_DONE = 7 * LINE;
  const COL_DONE = ROW_DONE + B * LINE;
  const START = COL_DONE + B * LINE;
  const USER_SLOTS = START + B * B + 1;
  const ITEM_SLOTS = USER_SLOTS + B + 1;
  const SCHEDULE = ITEM_SLOTS + B + 1;
  const SIZE = SCHEDULE + 2 * B * B;
  return {
    LINE,
    GRAB,
    DONE,
    SAVED,
    READ,
    PROGRESS,
    ROW_DONE,
    COL_DONE,
    START,
    USER_SLOTS,
    ITEM_SLOTS,
    SCHEDULE,
    SIZE,
  };
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
