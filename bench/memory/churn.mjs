// node bench/memory/churn.mjs live-1.json live-2.json live-3.json [depth]
// Three sampling heap profiles from sample-heap.mjs, taken at t0, t1 = t0 + a few seconds and t2 = t1 + a minute:
// - old-generation churn: samples alive at t0 and t1 (so they outlived several scavenges and were promoted) and gone
//   at t2, by allocation site (the innermost `depth` frames);
// - growth: samples allocated after t1 and alive at t2.
import { readFileSync } from 'node:fs';

const [f0, f1, f2, depthArg] = process.argv.slice(2);
if (f2 === undefined) {
  console.error('usage: node bench/memory/churn.mjs live-1.json live-2.json live-3.json [depth]');
  process.exit(2);
}
const depth = Number(depthArg ?? 3);
const profiles = [f0, f1, f2].map((f) => JSON.parse(readFileSync(f, 'utf8')));
const site = new Map();
const frame = (f) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/.*node_modules\/(\.pnpm\/)?/, '').replace(/^file:\/\/.*?\/(packages|apps)\//, '$1/')}`;
const walk = (node, stack) => {
  const here = [frame(node.callFrame), ...stack].slice(0, depth);
  site.set(node.id, here.join(' < '));
  for (const child of node.children) walk(child, here);
};
for (const p of profiles) walk(p.head, []);
const [a, b, c] = profiles.map((p) => new Map(p.samples.map((s) => [s.ordinal, s])));
const churn = new Map();
const grown = new Map();
const add = (m, s) => m.set(site.get(s.nodeId), (m.get(site.get(s.nodeId)) ?? 0) + s.size);
for (const [ordinal, s] of b) if (a.has(ordinal) && !c.has(ordinal)) add(churn, s);
const lastAtT1 = Math.max(...b.keys());
for (const [ordinal, s] of c) if (ordinal > lastAtT1) add(grown, s);
for (const [title, m] of [
  ['alive at t0 and t1, gone at t2 (old-generation churn)', churn],
  ['allocated after t1, alive at t2 (growth)', grown],
]) {
  const total = [...m.values()].reduce((x, y) => x + y, 0);
  console.log(`${title}: ${(total / 2 ** 20).toFixed(2)} MB of sampled objects`);
  for (const [k, v] of [...m].sort((x, y) => y[1] - x[1]).slice(0, 25))
    console.log(`${(v / 1024).toFixed(0).padStart(8)} KB  ${k}`);
}
