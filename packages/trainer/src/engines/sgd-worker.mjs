// A worker thread of the parallel SGD engine (sgd-parallel.ts). Plain JavaScript with no imports from the project,
// so it loads the same under plain node, tsx and vitest. It instantiates the compiled sgd-blocks module on the
// engine's shared WebAssembly memory (parameters and packed ratings) and, for each epoch it is told to run, takes
// blocks of the epoch's schedule from a shared counter:
//   'blocks': round by round; a round's blocks share no user or item, and every thread waits at a barrier before
//             the next round (so every update of a round is visible to the next one);
//   'hogwild': one round holding every block, no barrier (threads race on shared rows).
// Control words (Int32Array `control`): grab[round] at round, arrive[round] at B² + round... see sgd-parallel.ts.
import { parentPort, workerData } from 'node:worker_threads';

const { module, memory, control, blockSse, layout, hyper } = workerData;
const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(control);
const sse = new Float64Array(blockSse);
const { B, threads, offsets } = layout;
// control layout (in int32 words): [0, B²] blockStart, then the schedule (B²), grab (B²), arrive (B²), progress (1)
const BB = B * B;
const START = 0;
const SCHEDULE = BB + 1;
const GRAB = SCHEDULE + BB;
const ARRIVE = GRAB + BB;
const PROGRESS = ARRIVE + BB;

function runEpoch(rounds, perRound) {
  for (let s = 0; s < rounds; s++) {
    for (;;) {
      const j = Atomics.add(ctl, GRAB + s, 1);
      if (j >= perRound) break;
      const b = ctl[SCHEDULE + s * perRound + j];
      const start = ctl[START + b];
      const end = ctl[START + b + 1];
      if (end > start) {
        sse[b] = kernels.sgd_block(
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
        );
        Atomics.add(ctl, PROGRESS, end - start);
      } else sse[b] = 0;
    }
    if (rounds > 1) {
      // barrier: the last thread to arrive wakes the others
      if (Atomics.add(ctl, ARRIVE + s, 1) + 1 === threads) Atomics.notify(ctl, ARRIVE + s);
      else {
        let seen = Atomics.load(ctl, ARRIVE + s);
        while (seen < threads) {
          Atomics.wait(ctl, ARRIVE + s, seen);
          seen = Atomics.load(ctl, ARRIVE + s);
        }
      }
    }
  }
}

parentPort.on('message', (message) => {
  if (message.type === 'epoch') {
    runEpoch(message.rounds, message.perRound);
    parentPort.postMessage({ type: 'done' });
  }
});
