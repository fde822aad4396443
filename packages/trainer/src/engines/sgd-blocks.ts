/**
 * The block layout of LIBMF's parallel SGD (Chin, Zhuang, Juan & Lin, "A fast parallel SGD for matrix
 * factorization in shared memory systems", RecSys 2013 / ACM TIST 2015): users are split into B row blocks and items
 * into B column blocks, so the rating matrix is a B × B grid; two blocks that share neither a row block nor a column
 * block touch disjoint parameters, and threads can update them at the same time without locks.
 *
 * Here an epoch is B rounds (B a power of two); round s updates the B blocks (π(a), ρ(a ⊕ s)), a = 0…B−1 — a
 * perfect matching of row and column blocks (the XOR Latin square), so the blocks of a round are independent and the
 * B rounds cover every block once. π, ρ and the round order are drawn from the seeded generator each epoch: ρ any
 * permutation, π and the round order nested (nestedOrder: each aligned half, quarter, … of positions holds an
 * aligned half, quarter, … of row blocks, and the rounds with the same top bits of s come one after another). So
 * for T = 2, 4, 8, … threads where thread w owns the row blocks w·B/T … (w + 1)·B/T − 1 (sgd-worker.mjs): its rows
 * sit at one aligned group g of positions, which meets in B/T consecutive rounds (the same top bits t of s) only the
 * columns at positions g ⊕ t — no other thread's — so a row block's factors and ratings stay with one thread for good
 * and a column block's for B/T rounds at a time. The ratings of a block lie contiguously (packed 12-byte rows) in an
 * order shuffled once at the start. Because the
 * blocks of a round are independent and rounds run one after another, the result does not depend on how many
 * threads share a round or in which order they finish: it is the same for 1…B/2 threads, and deterministic for a
 * seed. Hogwild (Niu, Recht, Ré & Wright 2011) is the same layout with the blocks taken in a shuffled order and no
 * rounds: faster to schedule, but threads race on shared rows, so its result depends on timing.
 */
import type { RatingColumns, Rng } from '@movierec/data';
import { sgdStep } from './sgd.ts';
import type { SgdHyper } from './wasm.ts';

/**
 * Blocks per side for t threads: a power of two (the XOR rounds), at least 2t (so a round has spare blocks to balance
 * uneven ones), and 16 — so 16 for 1…8 threads.
 */
export function blocksPerSide(threads: number): number {
  let B = 16;
  while (B < 2 * threads) B *= 2;
  return B;
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
 * comment), each round's blocks largest first (so threads that take a round's blocks from a shared counter finish
 * close together). 'hogwild': all blocks in one shuffled sequence.
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
  if ((B & (B - 1)) !== 0) throw new RangeError(`sgd: blocks per side must be a power of two, got ${B}`);
  const rowPerm = nestedOrder(B, random);
  const colPerm = random.permutation(B);
  const rounds = nestedOrder(B, random);
  const size = (b: number) => blockStart[b + 1]! - blockStart[b]!;
  for (let s = 0; s < B; s++) {
    const round = out.subarray(s * B, (s + 1) * B);
    // the XOR Latin square: row position a meets column position a ⊕ s
    for (let a = 0; a < B; a++) round[a] = rowPerm[a]! * B + colPerm[a ^ rounds[s]!]!;
    round.sort((x, y) => size(y) - size(x) || x - y);
  }
  return out;
}

/**
 * 0…B−1 (B a power of two) in a random nested order: the two halves one after the other in a random order, each
 * half's two quarters likewise, and so on down to single values (B − 1 coin flips). Any aligned run of B/2ᵏ values
 * (the same top k bits) stays together.
 */
export function nestedOrder(B: number, random: Rng): Int32Array {
  const out = new Int32Array(B);
  const fill = (from: number, size: number, at: number) => {
    if (size === 1) {
      out[at] = from;
      return;
    }
    const half = size >> 1;
    const first = random.int(2) * half;
    fill(from + first, half, at);
    fill(from + half - first, half, at + half);
  };
  fill(0, B, 0);
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
