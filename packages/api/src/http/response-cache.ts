/**
 * Whole-response cache for GraphQL queries: the exact request body → the response bytes, valid while the model
 * snapshot is the same (service epoch), every user state the answer read is still valid (no rating since) and
 * every movie whose statistics it shows has had no rating in this process since.
 * A hit skips JSON parsing, Apollo and the resolvers entirely. Bounded by bytes (oldest out) and by age (movie
 * statistics such as ratingCount, which other users' ratings change, are at most `ttlMs` stale in a cached answer).
 */
import type { Catalogue } from '../serving/catalogue.ts';
import type { UserState } from '../serving/snapshot.ts';

/** What a cached answer read: user states and movies whose statistics it shows (with their stats version). */
export interface EntryDeps {
  users: UserState[];
  catalogue: Catalogue | null;
  movies: Int32Array;
  movieVersions: Uint32Array;
}

interface Entry {
  body: Buffer;
  epoch: number;
  deps: EntryDeps;
  expires: number;
}

function stale(d: EntryDeps): boolean {
  for (const u of d.users) if (!u.valid) return true;
  if (d.catalogue !== null) {
    const v = d.catalogue.statsVersion;
    for (let j = 0; j < d.movies.length; j++) if (v[d.movies[j]!] !== d.movieVersions[j]) return true;
  }
  return false;
}

export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxBytes: number;
  readonly #ttlMs: number;
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(maxBytes = 64 * 1024 * 1024, ttlMs = 60_000) {
    this.#maxBytes = maxBytes;
    this.#ttlMs = ttlMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, epoch: number, now: number): Buffer | null {
    const e = this.#entries.get(key);
    if (e === undefined) {
      this.misses++;
      return null;
    }
    if (e.epoch !== epoch || e.expires < now || stale(e.deps)) {
      this.#delete(key, e);
      this.misses++;
      return null;
    }
    this.hits++;
    return e.body;
  }

  set(key: string, body: Buffer, epoch: number, deps: EntryDeps, now: number): void {
    if (this.#maxBytes <= 0) return;
    const old = this.#entries.get(key);
    if (old !== undefined) this.#delete(key, old);
    const size = body.length + key.length * 2;
    if (size > this.#maxBytes / 16) return;
    this.#entries.set(key, { body, epoch, deps, expires: now + this.#ttlMs });
    this.#bytes += size;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#delete(k, e);
    }
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #delete(key: string, e: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= e.body.length + key.length * 2;
  }
}
