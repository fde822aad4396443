/**
 * How far V8 lets the old generation grow past what survived the last full collection, for a long-running server.
 *
 * After each mark-compact V8 sets the next one's trigger at live × f (Heap::RecomputeLimits), with
 * f = R(1 − μ) / (R(1 − μ) − μ), μ = 0.97 the target mutator utilisation and R the ratio of the collector's speed
 * to the program's allocation speed as last measured, clamped to [1.1, 4] on a machine with this much memory
 * (MemoryController::DynamicGrowingFactor, V8 src/heap/heap-controller.cc). Around a burst — the requests queued by
 * a database outage, a model activation — R is measured low, f goes toward its maximum, and the heap grows to
 * several times its live size before the next collection (the soak: 58 MB live, 140 MB before the next
 * mark-compact, 171 MB committed after it); V8 gives that memory back only when the process idles (the memory
 * reducer), which a loaded server never does, and the ArrayBuffers the garbage held meanwhile leave malloc's
 * arenas at their high-water mark.
 *
 * `--heap-growing-percent=p` fixes f = 1 + p/100 (V8's flag; read at every limit computation, so setting it once
 * the process runs takes effect at the next collection). The default 30 is V8's own conservative factor (1.3,
 * kConservativeGrowingFactor, what it uses when it optimises for memory). Under the soak's steady load full
 * collections came every 10–25 s with or without it, and only the spikes went: bench/soak.ts's resident memory
 * (mean of the minute) grew 210 → 248 MB over 5 minutes with it, 248 → 334 MB without; wrk's distinct-body
 * recommendations ran at 6,889 req/s with it, 6,234 without, in the same session (bench/results/session7.txt).
 */
import { setFlagsFromString } from 'node:v8';

/** Default growth of the old generation past the last full collection's survivors, in percent. */
export const DEFAULT_HEAP_GROWING_PERCENT = 30;
/** The largest growth accepted, in percent (a factor of 4, V8's own maximum). */
const MAX_HEAP_GROWING_PERCENT = 300;

const isPercent = (n: number) => Number.isInteger(n) && n >= 0 && n <= MAX_HEAP_GROWING_PERCENT;

/**
 * Sets V8's old-generation growing factor for this process to 1 + percent/100 (0: V8's own dynamic factor).
 * Process-wide; setting the same value again changes nothing. Returns the percent in force.
 */
export function limitHeapGrowth(percent: number = DEFAULT_HEAP_GROWING_PERCENT): number {
  if (!isPercent(percent))
    throw new RangeError(
      `heap growing percent must be a whole number from 0 to ${MAX_HEAP_GROWING_PERCENT}, got ${percent}`,
    );
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}

/** MOVIEREC_HEAP_GROWING_PERCENT: a whole number 0–300 (0: V8's dynamic factor); anything else names the variable. */
export function heapGrowingPercentFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.MOVIEREC_HEAP_GROWING_PERCENT;
  if (raw === undefined || raw === '') return DEFAULT_HEAP_GROWING_PERCENT;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!isPercent(n))
    throw new RangeError(
      `MOVIEREC_HEAP_GROWING_PERCENT must be a whole number from 0 to ${MAX_HEAP_GROWING_PERCENT} (0: V8's own factor), got ${JSON.stringify(raw)}`,
    );
  return n;
}
