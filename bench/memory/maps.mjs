// node bench/memory/maps.mjs PID — a process's anonymous resident memory by kind, from /proc/PID/smaps: V8's heap
// pages (256 KiB-multiple mappings placed away from the 0x7f… region where Node 20, without pointer compression,
// gets them), glibc's main arena ([heap]), its thread arenas (64 MiB-aligned mappings) and other anonymous mappings
// (chunks malloc mapped on their own, thread stacks).
import { readFileSync } from 'node:fs';

const pid = process.argv[2];
if (!pid) {
  console.error('usage: node bench/memory/maps.mjs PID');
  process.exit(2);
}
const kinds = { 'V8 heap pages': 0, 'malloc main arena': 0, 'malloc thread arenas': 0, 'other anonymous': 0 };
let current = null;
const flush = () => {
  if (current === null || current.anon === 0 || (current.name !== '' && current.name !== '[heap]')) return;
  const kind =
    current.name === '[heap]'
      ? 'malloc main arena'
      : current.start >> 40n !== 0x7fn
        ? 'V8 heap pages'
        : current.start % (64n << 20n) === 0n
          ? 'malloc thread arenas'
          : 'other anonymous';
  kinds[kind] += current.anon;
};
for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
  if (m) {
    flush();
    current = { start: BigInt(`0x${m[1]}`), name: m[3].trim(), anon: 0 };
  } else if (line.startsWith('Anonymous:')) current.anon = Number(line.split(/\s+/)[1]);
}
flush();
for (const [kind, kb] of Object.entries(kinds))
  console.log(`${(kb / 1024).toFixed(1).padStart(7)} MB  ${kind}`);
