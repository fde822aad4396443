import { IdMap } from '@movierec/data';
import { checkItemIndex, checkUserIndex, ModelFormatError } from './errors.ts';
import type { Recommender, RecommendQuery, TopItems, UserHistory, UserState } from './recommender.ts';
import { type ModelFamily, registerModelFamily } from './registry.ts';
import { topK } from './top-k.ts';

const EMPTY: TopItems = { items: new Int32Array(0), scores: new Float32Array(0) };

/**
 * The non-personalised baseline as a Recommender: every user gets the same list, ranked by a fixed score per item
 * (e.g. the item-bias baseline μ + b_i, Koren 2008 §2.1, or a rating count); −∞ marks items never to recommend.
 * The API's popularity fallback, and the smallest example of a model that is not a factor model.
 */
export class PopularityModel implements Recommender {
  readonly family = 'popularity';
  readonly task = 'ranking' as const;
  readonly scores: Float32Array;
  readonly users: IdMap;
  readonly items: IdMap;

  constructor(init: { scores: Float32Array; items: IdMap; users?: IdMap }) {
    if (init.scores.length !== init.items.size)
      throw new RangeError(
        `PopularityModel: scores has length ${init.scores.length}, expected one per item (${init.items.size})`,
      );
    this.scores = init.scores;
    this.items = init.items;
    this.users = init.users ?? new IdMap();
  }

  get numUsers(): number {
    return this.users.size;
  }
  get numItems(): number {
    return this.scores.length;
  }

  userState(user: number): UserState {
    checkUserIndex(user, this.numUsers);
    return { index: user };
  }
  trainedHistory(): undefined {
    return undefined;
  }
  /** Every user is the same user: the history only matters as `exclude`. */
  foldIn(_history: UserHistory): UserState {
    return { index: -1 };
  }
  scoreAll(_user: UserState, out: Float32Array): Float32Array {
    out.set(this.scores);
    return out;
  }
  recommend(_user: UserState, query: RecommendQuery): TopItems {
    return topK(this.scores, query);
  }
  /** No notion of item similarity: nothing. */
  similarItems(item: number, _k: number): TopItems {
    checkItemIndex(item, this.numItems);
    return EMPTY;
  }
  /** Nothing personal to explain. */
  explain(): TopItems {
    return EMPTY;
  }
}

/** Artifact "MPOP": uint32 header length, UTF-8 JSON { users, items }, then the float32 scores (little-endian). */
export const popularityFamily: ModelFamily = {
  family: 'popularity',
  magic: 'MPOP',
  serialize(model) {
    if (!(model instanceof PopularityModel))
      throw new ModelFormatError(`the 'popularity' family serialises PopularityModel, got ${model.family}`);
    const header = new TextEncoder().encode(
      JSON.stringify({ users: model.users.toJSON(), items: model.items.toJSON() }),
    );
    const start = (8 + header.length + 3) & ~3;
    const out = new Uint8Array(start + model.scores.byteLength);
    out.set(new TextEncoder().encode('MPOP'), 0);
    new DataView(out.buffer).setUint32(4, header.length, true);
    out.set(header, 8);
    out.set(new Uint8Array(model.scores.buffer, model.scores.byteOffset, model.scores.byteLength), start);
    return out;
  },
  deserialize(bytes, source) {
    const fail = (msg: string): never => {
      throw new ModelFormatError(`${source}: ${msg}`);
    };
    if (bytes.length < 8) fail(`only ${bytes.length} bytes, too short for a popularity model`);
    const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
    let header: { users?: string[]; items?: string[] } = {};
    try {
      header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
    } catch (err) {
      fail(`header is not valid JSON (${(err as Error).message})`);
    }
    const items = IdMap.fromJSON(header.items ?? []);
    const start = (8 + length + 3) & ~3;
    if (bytes.length !== start + items.size * 4)
      fail(`holds ${bytes.length - start} score bytes, expected ${items.size * 4} (${items.size} items)`);
    const scores = new Float32Array(items.size);
    new Uint8Array(scores.buffer).set(bytes.subarray(start));
    return new PopularityModel({ scores, items, users: IdMap.fromJSON(header.users ?? []) });
  },
};

registerModelFamily(popularityFamily);
