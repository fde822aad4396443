import { IdMap } from '@movierec/data';
import type { CosineIndex } from './cosine.ts';
import { checkItemIndex, checkUserIndex } from './errors.ts';
import { type RatedIndex, ratedItems } from './rated-index.ts';
import type { TopItems, UserHistory, UserState } from './recommender.ts';

/** What a model made of one params object is built from besides it (MFModel, NcfModel). */
export interface ParamsModelInit<P, L> {
  params: P;
  /** External user ID ↔ dense index; default: IDs "0"…"numUsers-1". */
  users?: IdMap;
  /** External movie ID ↔ dense index; default: IDs "0"…"numItems-1". */
  items?: IdMap;
  /** The training configuration (JSON-serialisable); kept in the artifact. */
  config?: Readonly<Record<string, unknown>>;
  log?: L;
  /** Items each user rated or interacted with in training (`trainedHistory`, `excludeRated`). */
  rated?: RatedIndex;
}

/**
 * The part MFModel and NcfModel share: the weights `params` (numUsers × numItems), the ID maps, config and training
 * log, the rated index, the constructor's size checks, and the item-to-item answers by the cosine of each model's
 * item vectors (`itemCosine`): similarItems and explain.
 */
export abstract class ParamsModel<P extends { readonly numUsers: number; readonly numItems: number }, L> {
  readonly params: P;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: L;
  readonly rated: RatedIndex | undefined;

  /** `className` names the model in a RangeError; `log` stands in when init has none. */
  constructor(className: string, init: ParamsModelInit<P, L>, log: L) {
    const p = init.params;
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) throw new RangeError(`${className}: ${what} has length ${got}, expected ${want}`);
    };
    this.params = p;
    this.users = init.users ?? IdMap.identity(p.numUsers);
    this.items = init.items ?? IdMap.identity(p.numItems);
    expect('users IdMap', this.users.size, p.numUsers);
    expect('items IdMap', this.items.size, p.numItems);
    if (init.rated) expect('rated index offsets', init.rated.offsets.length, p.numUsers + 1);
    this.config = init.config ?? {};
    this.log = init.log ?? log;
    this.rated = init.rated;
  }

  get numUsers(): number {
    return this.params.numUsers;
  }
  get numItems(): number {
    return this.params.numItems;
  }

  protected checkUser(u: number): void {
    checkUserIndex(u, this.params.numUsers);
  }
  protected checkItem(i: number): void {
    checkItemIndex(i, this.params.numItems);
  }

  /** The items user u rated (or interacted with) in training, ascending, when the model carries its rated index. */
  trainedHistory(user: number): Int32Array | undefined {
    this.checkUser(user);
    return this.rated ? ratedItems(this.rated, user) : undefined;
  }

  /** The cosine index over the model's item vectors, which similarItems and explain rank by. */
  protected abstract get itemCosine(): CosineIndex;

  /** The items most similar to `item` by the cosine of the item vectors, the item itself left out. */
  similarItems(item: number, k: number, allowed?: Uint8Array): TopItems {
    this.checkItem(item);
    return this.itemCosine.nearest(item, { k, ...(allowed ? { allowed } : {}) });
  }

  /**
   * Why `item` is recommended: the items of the user's history most similar to it by the cosine of the item
   * vectors (the item itself left out), best first; scores are the cosines. A model without a per-item contribution
   * to report lets the nearest rated neighbours stand in for "because you rated".
   */
  explain(_user: UserState, history: UserHistory, item: number, k: number): TopItems {
    this.checkItem(item);
    for (let j = 0; j < history.items.length; j++) this.checkItem(history.items[j]!);
    return this.itemCosine.among(item, history.items, k);
  }
}
