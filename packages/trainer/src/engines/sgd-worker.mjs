// A worker thread of the parallel SGD engine (sgd-parallel.ts). Plain JavaScript with no imports from the project,
// so it loads the same under plain node, tsx and vitest. It instantiates the compiled sgd-blocks module on the
// engine's shared WebAssembly memory (parameters, packed ratings) and, on its one 'start' message, runs the whole
// fit: the engine and the workers meet only through Atomics on int32 control words (`words` names their offsets;
// sgd-parallel.ts lays them out):
//   grab: the next block to run, counted over all epochs (epoch g div B², position g mod B² of the epoch's schedule,
//         schedule slot epoch mod 2);
//   done[e mod 2]: blocks of epochs of e's parity finished (epochs overlap, but e and e + 2 never do: the engine
//         reads epoch e once it reaches (⌊e/2⌋ + 1)·B²);
//   read: epochs the engine has read (losses, onEpoch); epoch e starts only once read ≥ e − lag + 1, because its
//         schedule slot and loss half are epoch e − lag's;
//   progress: ratings done, over all epochs;
//   'blocks': rowDone[a] / colDone[c] count the rounds row block a / column block c has been updated in (all epochs
//             together, round R = e·B + s). The block of round R in row a and column c waits until both counters
//             reach R — until the blocks of the earlier rounds on the same rows and items are done — and sets them
//             to R + 1. Each row's and each item's updates come in the same order as round after round behind a
//             barrier (so the result is the same for any thread count), but nothing waits for a block that
//             touches none of its rows — not at a round's end, not at an epoch's end. With `snapshots`, the block
//             of the first round of epoch e ≥ 1 first copies its row block's and column block's parameters (as
//             epoch e − 1 left them) into snapshot e − 1 mod 2 and adds 2 to saved[e − 1 mod 2] (complete at
//             (⌊(e − 1)/2⌋ + 1)·2B), so the engine hands onEpoch
//             epoch e − 1's parameters while the workers run on;
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
const f32 = (byteOffset, count) => new Float32Array(memory.buffer, byteOffset, count);
const numUsers = ctl[USER_SLOTS + B];
const numItems = ctl[ITEM_SLOTS + B];
const live = { P: f32(offsets.P, numUsers * k), Q: f32(offsets.Q, numItems * k) };
live.bu = f32(offsets.bu, numUsers);
live.bi = f32(offsets.bi, numItems);
const saved = offsets.saved.map((o) => ({
  P: f32(o.P, numUsers * k),
  Q: f32(o.Q, numItems * k),
  bu: f32(o.bu, numUsers),
  bi: f32(o.bi, numItems),
}));
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

/** Copies rows [from, to) of a side (P and b_u, or Q and b_i) into snapshot `slot`. */
function save(slot, factors, biases, from, to) {
  const into = saved[slot];
  into[factors].set(live[factors].subarray(from * k, to * k), from * k);
  into[biases].set(live[biases].subarray(from, to), from);
}

function runEpochs() {
  for (;;) {
    const g = Atomics.add(ctl, GRAB, 1);
    const epoch = (g / BB) | 0;
    if (epoch >= epochs) return;
    const j = g - epoch * BB;
    if (epoch >= lag) awaitAtLeast(READ, epoch - lag + 1);
    const b = ctl[SCHEDULE + (epoch & 1) * BB + j];
    const a = (b / B) | 0;
    const c = b - a * B;
    const row = ROW_DONE + a * LINE;
    const col = COL_DONE + c * LINE;
    const round = epoch * B + ((j / B) | 0);
    if (mode === 'blocks') {
      awaitAtLeast(row, round);
      awaitAtLeast(col, round);
      if (snapshots && epoch > 0 && j < B) {
        const slot = (epoch - 1) & 1;
        save(slot, 'P', 'bu', ctl[USER_SLOTS + a], ctl[USER_SLOTS + a + 1]);
        save(slot, 'Q', 'bi', ctl[ITEM_SLOTS + c], ctl[ITEM_SLOTS + c + 1]);
        const word = SAVED + slot * LINE;
        if (Atomics.add(ctl, word, 2) + 2 === (((epoch - 1) >> 1) + 1) * 2 * B) Atomics.notify(ctl, word);
      }
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
      Atomics.store(ctl, row, round + 1);
      Atomics.notify(ctl, row);
      Atomics.store(ctl, col, round + 1);
      Atomics.notify(ctl, col);
    }
    Atomics.add(ctl, PROGRESS, end - start);
    const done = DONE + (epoch & 1) * LINE;
    if (Atomics.add(ctl, done, 1) + 1 === ((epoch >> 1) + 1) * BB) Atomics.notify(ctl, done);
  }
}

// (the listener stays: a worker whose epochs are over idles until the engine, which has not yet seen them end,
// closes the pool — exiting on its own would look like a failure)
parentPort.on('message', (message) => {
  if (message.type === 'start' && threads > 0) runEpochs();
});
