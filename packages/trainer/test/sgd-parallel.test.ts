import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynthetic, Rng, takeRows } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { Engine, FitOptions, TrainConfig } from '../src/engine.ts';
import { TrainingInputError } from '../src/engines/common.ts';
import { blocksPerSide, epochSchedule, nestedOrder, packByBlocks } from '../src/engines/sgd-blocks.ts';
import { SGD_BLOCKS_WASM_BASE64 } from '../src/engines/sgd-blocks-wasm.ts';
import { createParallelSgdEngine } from '../src/engines/sgd-parallel.ts';

import { compileWat } from '../wasm/build.ts';
import { fitWithLosses, maxAbsDiff } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
// 60,000 ratings: enough for two worker threads (25,000 ratings per thread at least)
const data = generateSynthetic({ users: 600, items: 300, ratings: 60_000, seed: 5 });
const shape = { numUsers: data.users.size, numItems: data.items.size };
// worker threads on a shared machine: generous time limits (no test asserts a time)
const SLOW = 120_000;
const config: TrainConfig = {
  optimizer: 'sgd',
  factors: 16,
  epochs: 5,
  batchSize: 4096,
  learningRate: 0.01,
  l2: 0.05,
  initStd: 0.1,
  seed: 11,
};

const run = (engine: Engine, c: TrainConfig, options: FitOptions = {}) =>
  fitWithLosses(engine, data.ratings, shape, c, options);

/** RMSE of the parameters on rows `rows` of the data. */
function rmseOn(p: Awaited<ReturnType<typeof run>>['params'], rows: ReturnType<typeof takeRows>) {
  let s = 0;
  for (let r = 0; r < rows.length; r++) {
    const u = rows.users[r]!;
    const i = rows.items[r]!;
    let dot = 0;
    for (let f = 0; f < p.factors; f++)
      dot += p.userFactors[u * p.factors + f]! * p.itemFactors[i * p.factors + f]!;
    const e = rows.ratings[r]! - (p.globalMean + p.userBias[u]! + p.itemBias[i]! + dot);
    s += e * e;
  }
  return Math.sqrt(s / rows.length);
}

describe('block layout (LIBMF, Chin et al. 2015)', () => {
  it('packs every rating once into its block and schedules rounds of independent blocks covering the grid', () => {
    const B = blocksPerSide(2);
    const packed = new Int32Array(3 * data.ratings.length);
    const layout = packByBlocks(data.ratings, shape, B, new Rng(1), packed);
    expect(layout.blockStart[B * B]).toBe(data.ratings.length);
    // packed rows hold slots; slots are a permutation, grouped block by block
    const userOfSlot = new Int32Array(shape.numUsers).fill(-1);
    const itemOfSlot = new Int32Array(shape.numItems).fill(-1);
    layout.userSlot.forEach((slot, u) => {
      userOfSlot[slot] = u;
    });
    layout.itemSlot.forEach((slot, i) => {
      itemOfSlot[slot] = i;
    });
    expect(userOfSlot.includes(-1) || itemOfSlot.includes(-1)).toBe(false);
    for (const [slotOf, blockOf] of [
      [userOfSlot, layout.userBlock],
      [itemOfSlot, layout.itemBlock],
    ] as const)
      for (let s = 1; s < slotOf.length; s++)
        expect(blockOf[slotOf[s]!]!).toBeGreaterThanOrEqual(blockOf[slotOf[s - 1]!]!);
    let misplaced = 0;
    for (let b = 0; b < B * B; b++)
      for (let j = layout.blockStart[b]!; j < layout.blockStart[b + 1]!; j++) {
        const u = userOfSlot[packed[3 * j]!]!;
        const i = itemOfSlot[packed[3 * j + 1]!]!;
        if (layout.userBlock[u]! * B + layout.itemBlock[i]! !== b) misplaced++;
      }
    expect(misplaced).toBe(0);
    const schedule = epochSchedule(layout, new Rng(2), 'blocks', new Int32Array(B * B));
    expect([...schedule].sort((x, y) => x - y)).toEqual([...Array(B * B).keys()]);
    for (let s = 0; s < B; s++) {
      const round = [...schedule.subarray(s * B, (s + 1) * B)];
      expect(new Set(round.map((b) => Math.floor(b / B))).size).toBe(B); // no two share a row block
      expect(new Set(round.map((b) => b % B)).size).toBe(B); // nor a column block
    }
    // blocks hold about equal rating counts per row block
    const perRow = Array.from(
      { length: B },
      (_, a) => layout.blockStart[(a + 1) * B]! - layout.blockStart[a * B]!,
    );
    expect(Math.max(...perRow) / Math.min(...perRow)).toBeLessThan(1.5);
  });
});

describe('nested XOR rounds (which worker owns which blocks)', () => {
  it('blocksPerSide is a power of two, 16 for 1…8 threads, at least 2t beyond', () => {
    expect([1, 2, 3, 8, 9, 16, 17].map(blocksPerSide)).toEqual([16, 16, 16, 16, 32, 32, 64]);
  });

  it('nestedOrder keeps every aligned run together: a permutation whose halves, quarters, … are aligned blocks', () => {
    const random = new Rng(3);
    const seen = new Set<string>();
    for (let draw = 0; draw < 20; draw++) {
      const order = [...nestedOrder(16, random)];
      seen.add(order.join());
      expect([...order].sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
      for (const size of [8, 4, 2])
        for (let at = 0; at < 16; at += size) {
          const run = order.slice(at, at + size);
          const base = Math.min(...run);
          expect(base % size).toBe(0);
          expect([...run].sort((x, y) => x - y)).toEqual(run.map((_, i) => base + i));
        }
    }
    expect(seen.size).toBeGreaterThan(10); // random, not one fixed order
  });

  it('for T = 2, 4, 8 threads owning row blocks w·B/T … (w + 1)·B/T − 1, each keeps the same columns for B/T rounds and no two share one', () => {
    const B = 16;
    const packed = new Int32Array(3 * data.ratings.length);
    const layout = packByBlocks(data.ratings, shape, B, new Rng(1), packed);
    const random = new Rng(4);
    for (let epoch = 0; epoch < 3; epoch++) {
      const schedule = epochSchedule(layout, random, 'blocks', new Int32Array(B * B));
      for (const T of [2, 4, 8]) {
        const share = B / T;
        const columnsOf = (round: number, w: number) =>
          schedule
            .subarray(round * B, (round + 1) * B)
            .filter((b) => Math.floor(b / B / share) === w)
            .map((b) => b % B)
            .sort();
        for (let round = 0; round < B; round++) {
          const all = new Set<number>();
          for (let w = 0; w < T; w++) {
            const mine = columnsOf(round, w);
            expect(mine.length).toBe(share);
            for (const c of mine) all.add(c);
            // the same columns through each aligned run of B/T rounds
            expect(mine).toEqual(columnsOf(round - (round % share), w));
          }
          expect(all.size).toBe(B);
        }
      }
    }
  });
});

describe('parallel SGD', () => {
  it('the committed module is the compiled sgd-blocks.wat', async () => {
    expect(readFileSync(join(here, '../wasm/sgd-blocks.wat'), 'utf8')).toContain('sgd_block');
    expect(Buffer.from(await compileWat('sgd-blocks.wat')).toString('base64')).toBe(SGD_BLOCKS_WASM_BASE64);
  });

  it.each([16, 10])(
    'float32 wasm kernel and the float64 JS reference agree per epoch, %i factors (10: padded to 16 in the kernel)',
    async (factors) => {
      const c = { ...config, factors };
      const js = await run(createParallelSgdEngine({ kernels: 'js' }), c, { threads: 1 });
      const wasm = await run(createParallelSgdEngine({ kernels: 'wasm' }), c, { threads: 1 });
      for (let e = 0; e < c.epochs; e++)
        expect(Math.abs(wasm.losses[e]! / js.losses[e]! - 1)).toBeLessThan(1e-4);
      expect(wasm.params.userFactors.length).toBe(shape.numUsers * factors);
      expect(maxAbsDiff(wasm.params.userFactors, js.params.userFactors)).toBeLessThan(1e-3);
      expect(maxAbsDiff(wasm.params.itemBias, js.params.itemBias)).toBeLessThan(1e-3);
    },
    SLOW,
  );

  it(
    'is deterministic for a seed, and gives the same result on 1 and 2 threads (block rounds)',
    async () => {
      const engine = createParallelSgdEngine();
      const one = await run(engine, config, { threads: 1 });
      const two = await run(engine, config, { threads: 2 });
      const twoAgain = await run(engine, config, { threads: 2 });
      expect(two.losses).toEqual(twoAgain.losses);
      expect(two.params.userFactors).toEqual(twoAgain.params.userFactors);
      expect(two.losses).toEqual(one.losses);
      expect(two.params.itemFactors).toEqual(one.params.itemFactors);
      expect(two.losses.at(-1)!).toBeLessThan(two.losses[0]!);
      const other = await run(engine, { ...config, seed: 12 }, { threads: 2 });
      expect(other.losses).not.toEqual(two.losses);
    },
    SLOW,
  );

  it(
    'gives the same result on 3 threads (blocks from a shared counter) and 4 (blocks owned by row block) as on 1',
    async () => {
      // 100,000 ratings: enough for four workers
      const big = generateSynthetic({ users: 800, items: 400, ratings: 100_000, seed: 6 });
      const bigShape = { numUsers: big.users.size, numItems: big.items.size };
      const engine = createParallelSgdEngine();
      const fit = (threads: number) =>
        fitWithLosses(engine, big.ratings, bigShape, { ...config, epochs: 4 }, { threads });
      const one = await fit(1);
      for (const threads of [3, 4]) {
        const many = await fit(threads);
        expect(many.losses).toEqual(one.losses);
        expect(many.params.userFactors).toEqual(one.params.userFactors);
        expect(many.params.itemBias).toEqual(one.params.itemBias);
      }
    },
    SLOW,
  );

  it(
    "hands onEpoch each epoch's parameters while the workers run ahead, and stops on its verdict with that epoch's",
    async () => {
      const engine = createParallelSgdEngine();
      // what onEpoch sees at every epoch, and the result when it says 'stop' after epoch 3
      const watch = async (threads: number) => {
        const seen: Float32Array[] = [];
        const result = await engine.fit(data.ratings, shape, config, {
          threads,
          onEpoch: (s, p) => {
            seen.push(p.itemFactors.slice(), p.userBias.slice());
            return s.epoch === 3 ? 'stop' : undefined;
          },
        });
        return { seen, result };
      };
      const one = await watch(1);
      const two = await watch(2);
      expect(two.seen.length).toBe(6);
      expect(two.seen).toEqual(one.seen);
      expect(two.result.itemFactors).toEqual(one.seen[4]);
      expect(two.result.userFactors).toEqual(one.result.userFactors);
    },
    SLOW,
  );

  it(
    'Hogwild converges to the same accuracy on a holdout within noise (its result depends on timing)',
    async () => {
      const n = data.ratings.length;
      const perm = new Rng(3).permutation(n);
      const holdout = takeRows(data.ratings, perm.subarray(0, n / 10));
      const rest = takeRows(data.ratings, perm.subarray(n / 10).sort());
      const fit = (schedule: 'blocks' | 'hogwild') =>
        createParallelSgdEngine({ schedule }).fit(rest, shape, { ...config, epochs: 15 }, { threads: 2 });
      const blocks = rmseOn(await fit('blocks'), holdout);
      const hogwild = rmseOn(await fit('hogwild'), holdout);
      expect(Math.abs(blocks - hogwild)).toBeLessThan(0.01);
      expect(blocks).toBeLessThan(0.7); // planted noise 0.5
    },
    SLOW,
  );

  it('refuses threads < 1', async () => {
    await expect(createParallelSgdEngine().fit(data.ratings, shape, config, { threads: 0 })).rejects.toThrow(
      TrainingInputError,
    );
    await expect(createParallelSgdEngine().fit(data.ratings, shape, config, { threads: 0 })).rejects.toThrow(
      /threads must be a positive integer, got 0/,
    );
  });

  it(
    'fails the whole training with the message of a worker that throws',
    async () => {
      const engine = createParallelSgdEngine({
        workerUrl: new URL('./fixtures/failing-sgd-worker.mjs', import.meta.url),
      });
      const onEpoch = (): undefined => {
        throw new Error('no epoch may finish');
      };
      await expect(engine.fit(data.ratings, shape, config, { threads: 2, onEpoch })).rejects.toThrow(
        /a training worker failed: kernel exploded on block 7/,
      );
    },
    SLOW,
  );

  it(
    'stops every worker and rejects with the AbortError when aborted mid-training',
    async () => {
      const controller = new AbortController();
      const epochs: number[] = [];
      const fit = createParallelSgdEngine().fit(
        data.ratings,
        shape,
        { ...config, epochs: 10_000 },
        {
          threads: 2,
          signal: controller.signal,
          onEpoch: (s) => {
            epochs.push(s.epoch);
            if (s.epoch === 3) controller.abort();
            return undefined;
          },
        },
      );
      await expect(fit).rejects.toThrow(/aborted/i);
      expect(epochs.length).toBeLessThan(6);
    },
    SLOW,
  );
});
