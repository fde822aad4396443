/**
 * The block layout of LIBMF's parallel SGD (Chin, Zhuang, Juan & Lin, "A fast parallel SGD for matrix
 * factorization in shared memory systems", RecSys 2013 / ACM TIST 2015): users are split into B row blocks and items
 * into B column blocks, so the rating matrix is a B × B grid; two blocks that share neither a row block nor a column
 * block touch disjoint parameters, and threads can update them at the same time without locks.
 *
 * Here an epoch is B rounds; round s updates the B blocks (π(a), ρ((a + s) mod B)), a = 0…B−1 — a perfect
 * matching of row and column blocks (one Latin-square diagonal), so the blocks of a round are independent and the
 * B rounds cover every block once. π, ρ and the round order are drawn from the seeded generator each epoch; the
 * ratings of a block lie contiguously (packed 12-byte rows) in an order shuffled once at the start. Because the
 * blocks of a round are independent and rounds run one after another, the result does not depend on how many
 * threads share a round or in which order they finish: it is the same for 1…B/2 threads, and deterministic for a
 * seed. Hogwild (Niu, Recht, Ré & Wright 2011) is the same layout with the blocks taken in a shuffled order and no
 * rounds: faster to schedule, but threads race on shared rows, so its result depends on timing.
 */
import type { RatingColumns, Rng } from '@movierec/data';
import { sgdStep } from './sgd.ts';
import type { SgdHyper } from './wasm.ts';

/** Blocks per side for t threads: at least 2t (so a round has spare blocks to balance uneven ones), and 16. */
export function blocksPerSide(threads: number): number {
  return Math.max(16, 2 * threads);
}

/**
 * Assigns each of `count` rows (users or items) to one of B blocks so that the blocks hold about equal numbers of
 * ratings: the rows in a seeded random order, cut where the running rating count crosses j·total/B.
 */
export function assignBlocks(
  indices: Int32Array,
  n: number,
  count: number,
  B: number,
  random: Rng,
): Int32Array {
  const perRow = new Float64Array(count);
  for (let r = 0; r < n; r++) perRow[indices[r]!]!++;
  const order = random.permutation(count);
  const block = new Int32Array(count);
  let running = 0;
  for (let j = 0; j < count; j++) {
    const row = order[j]!;
    block[row] = Math.min(B - 1, Math.floor((running * B) / n));
    running += perRow[row]!;
  }
  return block;
}

export interface BlockLayout {
  /** Blocks per side. */
  B: number;
  /** Row block of each user, column block of each item. */
  userBlock: Int32Array;
  itemBlock: Int32Array;
  /**
   * Where each user's and item's parameters sit in the kernel memory (its slot): the rows renumbered block by block
   * (block 0's rows first, each block's in row order), so the rows one thread updates are contiguous and two threads
   * never write to the same cache line inside a block's range (no false sharing on b_u, b_i, P and Q).
   */
  userSlot: Int32Array;
  itemSlot: Int32Array;
  /** Ratings of block b = a·B + c are packed rows blockStart[b] … blockStart[b + 1] − 1. */
  blockStart: Int32Array;
}

/** Slot of each row: rows grouped by block (a counting sort by block, stable in row order). */
export function slotsByBlock(block: Int32Array, B: number): Int32Array {
  const next = new Int32Array(B + 1);
  for (let r = 0; r < block.length; r++) next[block[r]! + 1]!++;
  for (let b = 0; b < B; b++) next[b + 1]! += next[b]!;
  const slot = new Int32Array(block.length);
  for (let r = 0; r < block.length; r++) slot[r] = next[block[r]!]!++;
  return slot;
}

/**
 * Writes the ratings into `packed` (3n int32: user slot, item slot, rating as float32 bits) grouped by block, each
 * block's ratings in a seeded random order (a counting sort of a shuffled order, which keeps the shuffle within
 * blocks). The kernels index parameters by slot (BlockLayout.userSlot / itemSlot).
 */
export function packByBlocks(
  train: RatingColumns,
  shape: { numUsers: number; numItems: number },
  B: number,
  random: Rng,
  packed: Int32Array,
): BlockLayout {
  const n = train.length;
  const { users, items, ratings } = train;
  const userBlock = assignBlocks(users, n, shape.numUsers, B, random);
  const itemBlock = assignBlocks(items, n, shape.numItems, B, random);
  const userSlot = slotsByBlock(userBlock, B);
  const itemSlot = slotsByBlock(itemBlock, B);
  const blockStart = new Int32Array(B * B + 1);
  for (let r = 0; r < n; r++) blockStart[userBlock[users[r]!]! * B + itemBlock[items[r]!]! + 1]!++;
  for (let b = 0; b < B * B; b++) blockStart[b + 1]! += blockStart[b]!;
  const next = blockStart.slice(0, B * B);
  const order = random.permutation(n);
  const asFloat = new Float32Array(packed.buffer, packed.byteOffset, 3 * n);
  for (let j = 0; j < n; j++) {
    const r = order[j]!;
    const u = users[r]!;
    const i = items[r]!;
    const o = 3 * next[userBlock[u]! * B + itemBlock[i]!]!++;
    packed[o] = userSlot[u]!;
    packed[o + 1] = itemSlot[i]!;
    asFloat[o + 2] = ratings[r]!;
  }
  return { B, userBlock, itemBlock, userSlot, itemSlot, blockStart };
}

/**
 * One epoch's order of blocks into `out` (B² block ids). 'blocks': B rounds of B independent blocks (see the file
 * comment), each round's blocks largest first (so the threads sharing a round finish close together). 'hogwild':
 * all blocks in one shuffled sequence.
 */
export function epochSchedule(
  layout: BlockLayout,
  random: Rng,
  mode: 'blocks' | 'hogwild',
  out: Int32Array,
): Int32Array {
  const { B, blockStart } = layout;
  if (mode === 'hogwild') {
    for (let b = 0; b < B * B; b++) out[b] = b;
    return random.shuffle(out);
  }
  const rowPerm = random.permutation(B);
  const colPerm = random.permutation(B);
  const rounds = random.permutation(B);
  const size = (b: number) => blockStart[b + 1]! - blockStart[b]!;
  for (let s = 0; s < B; s++) {
    const round = out.subarray(s * B, (s + 1) * B);
    for (let a = 0; a < B; a++) round[a] = rowPerm[a]! * B + colPerm[(a + rounds[s]!) % B]!;
    round.sort((x, y) => size(y) - size(x) || x - y);
  }
  return out;
}

/**
 * One block's pass: sgdStep (sgd.ts; Funk 2006, Koren et al. 2009 eq. 5) over packed rows [start, end), returning
 * Σe² of the pre-update errors. F is how the parameters P, Q, b_u, b_i are given and R the packed rows: typed arrays
 * to sgdBlockPassJs, byte offsets into the shared memory to the kernel.
 */
export type SgdBlockPass<F, R> = (
  P: F,
  Q: F,
  bu: F,
  bi: F,
  rows: R,
  start: number,
  end: number,
  ...hyper: SgdHyper
) => number;

/** wasm/sgd-blocks.wat's exports (run by sgd-parallel.ts on one thread and by sgd-worker.mjs on each worker). */
export interface BlockKernels {
  sgd_block: SgdBlockPass<number, number>;
}

/** The float64 reference of BlockKernels' sgd_block. */
export const sgdBlockPassJs: SgdBlockPass<Float32Array, Int32Array> = (
  P,
  Q,
  bu,
  bi,
  packed,
  start,
  end,
  k,
  mu,
  gamma,
  decay,
  decayBias,
) => {
  const asFloat = new Float32Array(packed.buffer, packed.byteOffset, packed.length);
  let sse = 0;
  for (let j = start; j < end; j++)
    sse += sgdStep(
      P,
      Q,
      bu,
      bi,
      packed[3 * j]!,
      packed[3 * j + 1]!,
      asFloat[3 * j + 2]!,
      k,
      mu,
      gamma,
      decay,
      decayBias,
    );
  return sse;
};
