// Preload for a server under a soak (bench/soak.ts --node-args='--import ./bench/memory/sample-heap.mjs'): V8's
// sampling heap profiler runs from the start (one sample per ~4 KiB allocated), and each SIGUSR2 writes the samples
// still alive to $HEAP_PROFILE_DIR/live-<n>.json (default: the system's temporary folder). churn.mjs compares three
// of them. Samples carry an allocation ordinal, so "alive at t0 and at t1, gone at t2" picks the objects that lived
// long enough to be promoted to V8's old generation and then died there — what fragments it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = process.env.HEAP_PROFILE_DIR ?? tmpdir();
const session = new Session();
session.connect();
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
  );
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 4096 });
let n = 0;
process.on('SIGUSR2', async () => {
  const { profile } = await post('HeapProfiler.getSamplingProfile');
  const file = join(dir, `live-${++n}.json`);
  writeFileSync(file, JSON.stringify(profile));
  process.stderr.write(`heap samples written to ${file}\n`);
});
