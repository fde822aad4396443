/**
 * Whole-response cache for GraphQL queries: the exact request body → the response bytes, valid while the model
 * snapshot is the same (service epoch), every user state the answer read is still valid (no rating since) and
 * every movie whose statistics it shows has had no rating in this process since.
 * A hit skips JSON parsing, Apollo and the resolvers entirely. Bounded by bytes (oldest out) and by age (movie
 * statistics such as ratingCount, which other users' ratings change, are at most `ttlMs` stale in a cached answer).
 *
 * Admission: an answer is stored the second time its key misses within the last one to two TTLs, not the first
 * (TinyLFU's "doorkeeper", Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS
 * 2017, with its reset tied to time). Bodies that never repeat — a nonce, a timestamp, a large user population —
 * would otherwise fill the cache with entries no request reads, and every one of them would live long enough to be
 * promoted to the old generation and cost the garbage collector (measured: a quarter of the CPU on a load of
 * distinct bodies). An entry pays off only if its key comes back before it expires, so a key last seen longer ago
 * than that is a poor bet too: with a doorkeeper that only ever filled, a soak's cache kept growing for minutes
 * (4 → 20 MB, bench/results/session7.txt) with entries for keys that come back every few minutes, each stored, kept
 * a TTL and never read. The doorkeeper is two bit sets over a hash of the key (two bits per key, no per-key
 * objects): keys are added to the current one, looked up in both, and every TTL the current one becomes the previous
 * one and a cleared set the current one — also after 2^16 keys, when at most an eighth of a set's bits are set, so
 * a false "seen" (a one-off body stored anyway) stays below 2·(1/8)² ≈ 3%.
 */
import type { Catalogue } from '../serving/catalogue.ts';
import { ARRAY_OVERHEAD } from '../serving/user-cache.ts';

/** What a cached answer read: user states (their validity flags, not the states: see UserState.validity) and
 * movies whose statistics it shows (with their stats version). */
export interface EntryDeps {
  users: readonly { readonly valid: boolean }[];
  catalogue: Catalogue | null;
  /** Pairs (catalogue index, stats version when read), flat: the movies whose rating statistics the answer shows. */
  movieStats: readonly number[];
}

/**
 * One answer. Its movie pairs and its body share one buffer of their own, off the V8 heap: an entry is a handful of
 * heap objects (this record, the buffer's view, the key, the users array) where it had been a dozen (a deps record
 * and two typed arrays, each a view and an ArrayBuffer, beside the body's). Entries live up to a TTL and then die in
 * V8's old generation, and every object of theirs left a hole there: the soak's heap profile (objects that lived
 * seconds and then died) put the response cache at ~45% of that churn, and the old generation's committed memory
 * grew with it for minutes (bench/results/session9.txt).
 */
interface Entry {
  /** `pairs` × (int32 catalogue index, uint32 stats version), then the body. */
  bytes: Buffer;
  pairs: number;
  epoch: number;
  users: readonly { readonly valid: boolean }[];
  catalogue: Catalogue | null;
  expires: number;
}

function stale(e: Entry): boolean {
  for (const u of e.users) if (!u.valid) return true;
  if (e.catalogue !== null) {
    const v = e.catalogue.statsVersion;
    for (let j = 0; j < e.pairs; j++)
      if (v[e.bytes.readInt32LE(8 * j)] !== e.bytes.readUInt32LE(8 * j + 4)) return true;
  }
  return false;
}

/** Bits of the doorkeeper (128 KiB). */
const DOORKEEPER_BITS = 1 << 20;

/** FNV-1a over the key's UTF-16 code units (32 bits; Fowler, Noll & Vo), mixed once more (murmur3's finaliser). */
function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Whether both of a key's bits, a and b, are set. */
const hasBits = (bits: Uint32Array, a: number, b: number) =>
  (bits[a >>> 5]! & (1 << (a & 31))) !== 0 && (bits[b >>> 5]! & (1 << (b & 31))) !== 0;

/** Key hashes seen in the current and the previous window, in two bit arrays: `checkAndAdd` says whether the key was
 * (probably) seen in either. */
class Doorkeeper {
  #current = new Uint32Array(DOORKEEPER_BITS / 32);
  #previous = new Uint32Array(DOORKEEPER_BITS / 32);
  #added = 0;
  #windowStart = 0;
  readonly #windowMs: number;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  checkAndAdd(key: string, now: number): boolean {
    if (now - this.#windowStart >= this.#windowMs) this.#rotate(now);
    const h = hashKey(key);
    // two bits per key (double hashing from one 32-bit hash): a false positive needs both set
    const a = h & (DOORKEEPER_BITS - 1);
    const b = (Math.imul(h, 0x9e3779b1) >>> 12) & (DOORKEEPER_BITS - 1);
    const bits = this.#current;
    if (hasBits(bits, a, b)) return true;
    bits[a >>> 5]! |= 1 << (a & 31);
    bits[b >>> 5]! |= 1 << (b & 31);
    if (++this.#added >= DOORKEEPER_BITS / 16) this.#rotate(now);
    return hasBits(this.#previous, a, b);
  }

  #rotate(now: number): void {
    const old = this.#previous;
    this.#previous = this.#current;
    old.fill(0);
    this.#current = old;
    this.#added = 0;
    this.#windowStart = now;
  }
}

/** Bytes an entry costs beyond its buffer's contents and its key: the Map slot, the entry record, its users array. */
const ENTRY_OVERHEAD = 256;
/** An entry's bytes: its buffer (`stored`: pairs and body) with the user cache's ARRAY_OVERHEAD (view, ArrayBuffer,
 * backing-store record), its key (UTF-16), its users array and ENTRY_OVERHEAD. */
const entryBytes = (key: string, stored: number, users: number) =>
  stored + ARRAY_OVERHEAD + key.length * 2 + ENTRY_OVERHEAD + 8 * users;

/** Default budget of the whole-response cache (MOVIEREC_RESPONSE_CACHE_BYTES, responseCacheBytes). */
export const DEFAULT_RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  #bytes = 0;
  readonly #doorkeeper: Doorkeeper;
  hits = 0;
  misses = 0;
  /** Answers not stored because their key had not missed before (see Admission above). */
  refused = 0;

  constructor(maxBytes = DEFAULT_RESPONSE_CACHE_BYTES, ttlMs = 60_000) {
    this.#maxBytes = maxBytes;
    this.#ttlMs = ttlMs;
    this.#doorkeeper = new Doorkeeper(ttlMs);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held, as counted against the budget (bodies, keys and ENTRY_OVERHEAD each). */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, epoch: number, now: number): Buffer | null {
    const e = this.#entries.get(key);
    if (e === undefined) {
      this.misses++;
      return null;
    }
    if (e.epoch !== epoch || e.expires < now || stale(e)) {
      this.#delete(key, e);
      this.misses++;
      return null;
    }
    this.hits++;
    return e.pairs === 0 ? e.bytes : e.bytes.subarray(8 * e.pairs);
  }

  /** Whether `set` would store an answer under this key (seen in the last one to two TTLs); records the key for
   * next time. */
  admits(key: string, now: number): boolean {
    if (this.#maxBytes <= 0) return false;
    if (this.#entries.has(key) || this.#doorkeeper.checkAndAdd(key, now)) return true;
    this.refused++;
    return false;
  }

  /** Stores an answer (callers ask `admits` first: only keys that missed before are worth storing). */
  set(key: string, body: Buffer, epoch: number, deps: EntryDeps, now: number): void {
    if (this.#maxBytes <= 0) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#delete(key, old);
    const pairs = deps.movieStats.length >> 1;
    const users = deps.users;
    const size = entryBytes(key, 8 * pairs + body.length, users.length);
    if (size > this.#maxBytes / 16) return;
    // A buffer of its own, never a view of another: a body under 4 KiB made by Buffer.from(string) is a slice of
    // Node's shared 8 KiB pool, and keeping the slice keeps the whole slab (the budget counted ~1.5 KB per entry
    // while each held ~8 KB: the soak's resident memory grew 277 → 690 MB under a 64 MiB budget).
    const bytes = Buffer.allocUnsafeSlow(8 * pairs + body.length);
    for (let j = 0; j < pairs; j++) {
      bytes.writeInt32LE(deps.movieStats[2 * j]!, 8 * j);
      bytes.writeUInt32LE(deps.movieStats[2 * j + 1]!, 8 * j + 4);
    }
    body.copy(bytes, 8 * pairs);
    const entry: Entry = {
      bytes,
      pairs,
      epoch,
      users,
      catalogue: deps.catalogue,
      expires: now + this.#ttlMs,
    };
    this.#entries.set(key, entry);
    this.#bytes += size;
    // oldest first: over the budget, and expired ones (every entry lives ttlMs, so insertion order is expiry order
    // and the expired are all at the front) — otherwise entries nobody asks for again stay until the budget is full
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes && e.expires >= now) break;
      this.#delete(k, e);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #delete(key: string, e: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entryBytes(key, e.bytes.length, e.users.length);
  }
}
