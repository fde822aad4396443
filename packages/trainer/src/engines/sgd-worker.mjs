// A worker thread of the parallel SGD engine (sgd-parallel.ts). Plain JavaScript with no imports from the project,
// so it loads the same under plain node, tsx and vitest. It instantiates the compiled sgd-blocks module on the
// engine's shared WebAssembly memory (parameters, packed ratings) and, on its one 'start' message, runs the whole
// fit: the engine and the workers meet only through Atomics on int32 control words (`words` names their offsets;
// sgd-parallel.ts lays them out):
//   grab: the next block to run, counted over all epochs (epoch g div B², position g mod B² of the epoch's schedule,
//         schedule slot epoch mod 2) — when the blocks are shared out this way (below); otherwise each worker takes
//         its index from it once;
//   done[e mod 2]: blocks of epochs of e's parity finished (epochs overlap, but e and e + 2 never do: the engine
//         reads epoch e once it reaches (⌊e/2⌋ + 1)·B²);
//   read: epochs the engine has read (losses, onEpoch); epoch e starts only once read ≥ e − lag + 1, because its
//         schedule slot and loss half are epoch e − lag's;
//   progress: ratings done, over all epochs;
//   'blocks': rowDone[a] / colDone[c] count the rounds row block a / column block c has been updated in (all epochs
//             together, round R = e·B + s). The block of round R in row a and column c waits until both counters
//             reach R — until the blocks of the earlier rounds on the same rows and items are done — and sets them
//             to R + 1. Each row's and each item's updates come in the same order as round after round behind a
//             barrier (so the result is the same for any thread count, and whichever thread runs a block, in
//             whatever order), but nothing waits for a block that touches none of its rows — not at a round's end,
//             not at an epoch's end. With `snapshots`, the block of the first round of epoch e ≥ 1 first copies its
//             row block's and column block's parameters (as epoch e − 1 left them) into snapshot e − 1 mod 2 and adds
//             2 to saved[e − 1 mod 2] (complete at (⌊(e − 1)/2⌋ + 1)·2B, which implies epoch e − 1 is done), so the
//             engine hands onEpoch epoch e − 1's parameters while the workers run on.
//             Who runs which block: when the thread count T divides B (B is a power of two: T = 1, 2, 4, 8 of
//             B = 16), worker w runs the blocks of row blocks w·B/T … (w + 1)·B/T − 1 only, in every epoch: the
//             nested schedule (sgd-blocks.ts) gives them columns no other worker has for B/T rounds at a time, so a
//             row block's factors and ratings stay in one core's cache and a column block's move only every B/T
//             rounds. Within that, it runs whichever of its next blocks (those of its first pending round and the
//             round after, across an epoch's end) is ready first, so a handover of columns that is late for one
//             block does not hold up the others. Otherwise (T = 3, 5, 6, 7) the workers take blocks in schedule
//             order from the grab counter;
//   'hogwild': the blocks in one shuffled sequence and no waiting (threads race on shared rows); lag 1.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, control, blockSse, layout, hyper } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control);
const sse = new Float64Array(blockSse);
const { B, threads, mode, lag, epochs, snapshots, offsets, words } = layout;
const BB = B * B;
const {
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
  LINE,
} = words;
const { k } = hyper;
/**
 * How long a worker spins on a word before it sleeps (ms). A block takes ~0.1 ms: a wait for the other thread's
 * block spins through it (a thread woken from Atomics.wait may take a while to run again on a busy virtual
 * machine); a longer wait (the other thread descheduled, the engine behind) sleeps.
 */
const SPIN_MS = 0.5;

/** Returns once ctl[index] ≥ target (spins up to SPIN_MS, then sleeps in Atomics.wait). */
function awaitAtLeast(index, target) {
  let seen = Atomics.load(ctl, index);
  if (seen >= target) return;
  const until = performance.now() + SPIN_MS;
  for (let spin = 1; seen < target; spin++) {
    seen = Atomics.load(ctl, index);
    if ((spin & 255) === 0 && performance.now() > until) break;
  }
  while (seen < target) {
    Atomics.wait(ctl, index, seen, 100);
    seen = Atomics.load(ctl, index);
  }
}

const bytes = new Uint8Array(memory.buffer);

/** Copies rows [from, to) of a side (P and b_u, or Q and b_i; byte offsets) into the snapshot's arrays. */
function save(factorsFrom, factorsTo, biasesFrom, biasesTo, from, to) {
  bytes.copyWithin(factorsTo + 4 * k * from, factorsFrom + 4 * k * from, factorsFrom + 4 * k * to);
  bytes.copyWithin(biasesTo + 4 * from, biasesFrom + 4 * from, biasesFrom + 4 * to);
}

/** True once the blocks of the rounds before `round` on row block a and column block c are done. */
const ready = (a, c, round) =>
  Atomics.load(ctl, ROW_DONE + a * LINE) >= round && Atomics.load(ctl, COL_DONE + c * LINE) >= round;

/** Runs block j of `epoch`'s schedule (its rows' and columns' earlier rounds done) and publishes it. */
function runBlock(epoch, j, b) {
  const a = (b / B) | 0;
  const c = b - a * B;
  const round = epoch * B + ((j / B) | 0);
  if (mode === 'blocks' && snapshots && epoch > 0 && j < B) {
    const slot = (epoch - 1) & 1;
    const into = offsets.saved[slot];
    save(offsets.P, into.P, offsets.bu, into.bu, ctl[USER_SLOTS + a], ctl[USER_SLOTS + a + 1]);
    save(offsets.Q, into.Q, offsets.bi, into.bi, ctl[ITEM_SLOTS + c], ctl[ITEM_SLOTS + c + 1]);
    const word = SAVED + slot * LINE;
    if (Atomics.add(ctl, word, 2) + 2 === (((epoch - 1) >> 1) + 1) * 2 * B) Atomics.notify(ctl, word);
  }
  const start = ctl[START + b];
  const end = ctl[START + b + 1];
  sse[(epoch & 1) * BB + b] =
    end > start
      ? kernels.sgd_block(
          offsets.P,
          offsets.Q,
          offsets.bu,
          offsets.bi,
          offsets.rows,
          start,
          end,
          k,
          hyper.mu,
          hyper.gamma,
          hyper.decay,
          hyper.decayBias,
        )
      : 0;
  if (mode === 'blocks') {
    const row = ROW_DONE + a * LINE;
    const col = COL_DONE + c * LINE;
    Atomics.store(ctl, row, round + 1);
    Atomics.notify(ctl, row);
    Atomics.store(ctl, col, round + 1);
    Atomics.notify(ctl, col);
  }
  Atomics.add(ctl, PROGRESS, end - start);
  const done = DONE + (epoch & 1) * LINE;
  if (Atomics.add(ctl, done, 1) + 1 === ((epoch >> 1) + 1) * BB) Atomics.notify(ctl, done);
}

/** The blocks in schedule order from the shared grab counter (any thread count; Hogwild). */
function runGrabbed() {
  for (;;) {
    const g = Atomics.add(ctl, GRAB, 1);
    const epoch = (g / BB) | 0;
    if (epoch >= epochs) return;
    const j = g - epoch * BB;
    if (epoch >= lag) awaitAtLeast(READ, epoch - lag + 1);
    const b = ctl[SCHEDULE + (epoch & 1) * BB + j];
    if (mode === 'blocks') {
      const a = (b / B) | 0;
      const round = epoch * B + ((j / B) | 0);
      awaitAtLeast(ROW_DONE + a * LINE, round);
      awaitAtLeast(COL_DONE + (b - a * B) * LINE, round);
    }
    runBlock(epoch, j, b);
  }
}

/**
 * Worker `me` of T (T divides B): the blocks of its own row blocks me·B/T … (me + 1)·B/T − 1, each epoch's in
 * schedule order, taking the first that is ready among those of its first pending round and the round after.
 */
function runOwned(me) {
  const share = B / threads;
  const perEpoch = BB / threads;
  // pending blocks, in schedule order over the epochs loaded so far: epoch, position j in the epoch's schedule,
  // block id, round over all epochs, and 1 once run; entries [head, tail)
  const room = 4 * perEpoch;
  const pe = new Int32Array(room);
  const pj = new Int32Array(room);
  const pb = new Int32Array(room);
  const pr = new Int32Array(room);
  const ran = new Uint8Array(room);
  let head = 0;
  let tail = 0;
  let loaded = 0;
  const load = () => {
    if (tail + perEpoch > room) {
      for (const list of [pe, pj, pb, pr, ran]) list.copyWithin(0, head, tail);
      tail -= head;
      head = 0;
    }
    const slot = SCHEDULE + (loaded & 1) * BB;
    for (let j = 0; j < BB; j++) {
      const b = ctl[slot + j];
      if (((b / B / share) | 0) !== me) continue;
      pe[tail] = loaded;
      pj[tail] = j;
      pb[tail] = b;
      pr[tail] = loaded * B + ((j / B) | 0);
      ran[tail++] = 0;
    }
    loaded++;
  };
  // the schedule of epoch e is in place once the engine has read epoch e − lag
  const loadable = () => loaded < epochs && (loaded < lag || Atomics.load(ctl, READ) >= loaded - lag + 1);
  for (;;) {
    while (head < tail && ran[head] === 1) head++;
    if (head === tail) {
      if (loaded === epochs) return;
      if (loaded >= lag) awaitAtLeast(READ, loaded - lag + 1);
      load();
      continue;
    }
    const last = pr[head] + 1;
    if (pr[tail - 1] <= last && loadable()) load();
    let pick = -1;
    const until = performance.now() + SPIN_MS;
    for (let spin = 1; pick < 0; spin++) {
      for (let i = head; i < tail && pr[i] <= last; i++) {
        if (ran[i] === 1) continue;
        const a = (pb[i] / B) | 0;
        if (ready(a, pb[i] - a * B, pr[i])) {
          pick = i;
          break;
        }
      }
      if (pick < 0 && (spin & 15) === 0 && performance.now() > until) {
        // nothing ready for a while: sleep until the first pending block's row or column moves on
        const a = (pb[head] / B) | 0;
        awaitAtLeast(ROW_DONE + a * LINE, pr[head]);
        awaitAtLeast(COL_DONE + (pb[head] - a * B) * LINE, pr[head]);
        pick = head;
      }
    }
    ran[pick] = 1;
    runBlock(pe[pick], pj[pick], pb[pick]);
  }
}

function runEpochs() {
  if (mode === 'blocks' && B % threads === 0) runOwned(Atomics.add(ctl, GRAB, 1));
  else runGrabbed();
}

// (the listener stays: a worker whose epochs are over idles until the engine, which has not yet seen them end,
// closes the pool — exiting on its own would look like a failure)
parentPort.on('message', (message) => {
  if (message.type === 'start' && threads > 0) runEpochs();
});
