/**
 * The user states one snapshot holds in memory, bounded by bytes and by count (least recently stored out first).
 * A state's bytes are estimated once when it is stored (its histories, exclusion lists and model states) and grow as
 * top-N lists are cached on it, so a large population of distinct users cannot grow the process without bound: the
 * soak (bench/soak.ts) showed resident memory growing 234 → 560 MB in 10 minutes under a count-only bound of 200,000
 * states. Evicted states are marked stale (response-cache entries built from them check `valid`).
 */
import type { TopItems } from '@movierec/core';

/** What the cache reads of a user as one model sees them (snapshot.ts's ModelUser). */
export interface SizedModelUser {
  readonly history: object;
  readonly exclude: Int32Array;
  readonly state: object | null;
}

/** What the cache reads and marks of a user's state (snapshot.ts's UserState). */
export interface CachedState {
  readonly userId: string;
  /** Set false when the state is replaced or evicted. */
  valid: boolean;
  readonly tops: ReadonlyMap<string, TopItems>;
  readonly recommending: SizedModelUser | null;
  readonly rating: SizedModelUser | null;
}

/** Default byte budget of the user-state cache (MOVIEREC_USER_CACHE_BYTES, ServiceOptions.userCacheBytes). */
export const DEFAULT_USER_CACHE_BYTES = 16 * 1024 * 1024;

/** Default most user states held, whatever their size (ServiceOptions.maxUsers). */
export const DEFAULT_MAX_USERS = 200_000;

/**
 * What a state costs beyond its typed arrays: the UserState, its two ModelUser records, the tops Map, the cache's
 * Map entry and the key string's header: V8 object headers and hash-table slots, an allowance rounded up (a test
 * checks that the estimate is not below what the V8 heap grows by per state).
 */
const STATE_OVERHEAD = 768;
/** What one cached top-N list costs beyond its two arrays and key (the TopItems object, the Map slot). */
const TOP_OVERHEAD = 160;
/**
 * What each typed array costs beyond its elements: the view and ArrayBuffer objects and the backing store's record.
 * Without it the estimate came to 4.4 KB for a state the heap and array buffers grew by 5.2 KB for (10 arrays;
 * test/user-cache.test.ts measures it).
 */
export const ARRAY_OVERHEAD = 112;

export class UserStateCache<S extends CachedState = CachedState> {
  /** By user ID, least recently stored first: each held state with its estimated bytes. */
  readonly #entries = new Map<string, { state: S; bytes: number }>();
  #total = 0;

  constructor(
    readonly maxBytes = DEFAULT_USER_CACHE_BYTES,
    readonly maxUsers = DEFAULT_MAX_USERS,
  ) {
    if (!(maxBytes >= 0) || !(maxUsers >= 0))
      throw new RangeError(
        `user cache: maxBytes and maxUsers must be non-negative numbers, got ${maxBytes} and ${maxUsers}`,
      );
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes the held states are estimated to take. */
  get bytes(): number {
    return this.#total;
  }

  get(userId: string): S | undefined {
    return this.#entries.get(userId)?.state;
  }

  /** Stores a state (replacing and staling the user's old one), then evicts the oldest until within both bounds. */
  remember(state: S): void {
    this.forget(state.userId);
    const bytes = stateBytes(state);
    if (bytes > this.maxBytes || this.maxUsers === 0) {
      state.valid = false;
      return;
    }
    this.#entries.set(state.userId, { state, bytes });
    this.#total += bytes;
    this.#evict();
  }

  /** A top-N list cached on a held state: its bytes count against the budget (a state no longer held: nothing). */
  charge(state: S, key: string, top: TopItems): void {
    const entry = this.#entries.get(state.userId);
    if (entry?.state !== state) return;
    const more = topBytes(key, top);
    entry.bytes += more;
    this.#total += more;
    this.#evict();
  }

  forget(userId: string): void {
    const entry = this.#entries.get(userId);
    if (entry === undefined) return;
    entry.state.valid = false;
    this.#entries.delete(userId);
    this.#total -= entry.bytes;
  }

  #evict(): void {
    while (this.#entries.size > 0 && (this.#total > this.maxBytes || this.#entries.size > this.maxUsers)) {
      this.forget(this.#entries.keys().next().value as string);
    }
  }
}

/** Bytes of the typed arrays among an object's own values (a model's user state: factors, items, weights…). */
function arrayBytes(value: object | null | undefined): number {
  if (value == null) return 0;
  let n = 0;
  for (const v of Object.values(value)) if (ArrayBuffer.isView(v)) n += v.byteLength + ARRAY_OVERHEAD;
  return n;
}

function modelUserBytes(user: SizedModelUser | null): number {
  if (user === null) return 0;
  return arrayBytes(user.history) + user.exclude.byteLength + ARRAY_OVERHEAD + arrayBytes(user.state) + 64;
}

/** The estimated bytes of a state as stored (before any top-N list is cached on it). */
export function stateBytes(state: CachedState): number {
  let n = STATE_OVERHEAD + 2 * state.userId.length + modelUserBytes(state.recommending);
  if (state.rating !== state.recommending) n += modelUserBytes(state.rating);
  for (const [key, top] of state.tops) n += topBytes(key, top);
  return n;
}

/** What one top-N list costs: its two arrays, each with ARRAY_OVERHEAD, and TOP_OVERHEAD (also list-cache.ts). */
export function listBytes(top: TopItems): number {
  return TOP_OVERHEAD + top.items.byteLength + top.scores.byteLength + 2 * ARRAY_OVERHEAD;
}

function topBytes(key: string, top: TopItems): number {
  return 2 * key.length + listBytes(top);
}
