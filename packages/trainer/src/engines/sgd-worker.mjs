// A worker thread of the parallel SGD engine (sgd-parallel.ts). Plain JavaScript with no imports from the project,
// so it loads the same under plain node, tsx and vitest. It instantiates the compiled sgd-blocks module on the
// engine's shared WebAssembly memory (parameters and packed ratings) and, on its one 'start' message, runs every
// epoch the engine releases without another message: the engine and the workers meet only through Atomics on the
// int32 control words (`words` names their offsets; sgd-parallel.ts lays them out):
//   go: the engine stores e + 1 to release epoch e (after it has read epoch e − 1's losses and parameters);
//   finished: each worker adds 1 when it has no block of the epoch left (the engine waits for threads·(e + 1));
//   grab[e mod 2]: the next position in epoch e's schedule (schedule[e mod 2]) a worker takes;
//   'blocks': rowDone[a] / colDone[c] count the rounds row block a / column block c has been updated in (all epochs
//             together, round R = e·B + s). The block of round R in row a and column c waits until both counters
//             reach R — until the blocks of the earlier rounds on the same rows and items are done — and sets them
//             to R + 1. Each row's and each item's updates happen in the same order as round after round behind a
//             barrier (so the result is the same for any thread count), but a thread never waits for a block that
//             touches none of its rows: a late thread delays only what depends on it;
//   'hogwild': the blocks in one shuffled sequence and no waiting (threads race on shared rows).
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, control, blockSse, layout, hyper } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control);
const sse = new Float64Array(blockSse);
const { B, threads, mode, offsets, words } = layout;
const BB = B * B;
const { GO, FINISHED, PROGRESS, GRAB, ROW_DONE, COL_DONE, START, SCHEDULE, LINE } = words;
/** Loads of a word before sleeping on it: a block takes tens of µs, a wake-up from Atomics.wait as long. */
const SPIN = 1 << 14;

/** Returns once ctl[index] ≥ target (spins briefly, then sleeps in Atomics.wait). */
function awaitAtLeast(index, target) {
  let seen = Atomics.load(ctl, index);
  for (let spin = 0; seen < target && spin < SPIN; spin++) seen = Atomics.load(ctl, index);
  while (seen < target) {
    Atomics.wait(ctl, index, seen, 100);
    seen = Atomics.load(ctl, index);
  }
}

function runEpoch(epoch) {
  const slot = epoch & 1;
  const schedule = SCHEDULE + slot * BB;
  for (;;) {
    const j = Atomics.add(ctl, GRAB + slot * LINE, 1);
    if (j >= BB) return;
    const b = ctl[schedule + j];
    const row = ROW_DONE + ((b / B) | 0) * LINE;
    const col = COL_DONE + (b % B) * LINE;
    const round = epoch * B + ((j / B) | 0);
    if (mode === 'blocks') {
      awaitAtLeast(row, round);
      awaitAtLeast(col, round);
    }
    const start = ctl[START + b];
    const end = ctl[START + b + 1];
    sse[b] =
      end > start
        ? kernels.sgd_block(
            offsets.P,
            offsets.Q,
            offsets.bu,
            offsets.bi,
            offsets.rows,
            start,
            end,
            hyper.k,
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
  }
}

function runEpochs() {
  for (let epoch = 0; ; epoch++) {
    awaitAtLeast(GO, epoch + 1);
    runEpoch(epoch);
    Atomics.add(ctl, FINISHED, 1);
    Atomics.notify(ctl, FINISHED);
  }
}

parentPort.once('message', (message) => {
  if (message.type === 'start' && threads > 0) runEpochs();
});
