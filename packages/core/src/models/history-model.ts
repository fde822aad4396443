import type { IdMap } from '@movierec/data';
import { checkItemIndex, checkUserIndex } from '../errors.ts';
import type { TrainingLog } from '../model.ts';
import type { ModelTask } from '../recommender.ts';
import { type Csr, csrRow } from './common.ts';

/** What a ranking model trained on interaction histories is built from, besides its own weights. */
export interface HistoryModelInit {
  family: string;
  users: IdMap;
  items: IdMap;
  /** Each trained user's history (items ascending). */
  history: Csr;
  /** Training interactions per item: the popularity fallback. */
  popularity: Float32Array;
  config?: Readonly<Record<string, unknown>>;
  /** How it was trained (the MF model's TrainingLog shape: engine, epochs, anything else). */
  log?: TrainingLog;
}

/**
 * The part the item-item and factor ranking models share: ID maps, each trained user's history (their
 * `trainedHistory`, and the rows a user state starts from), the popularity fallback, config and log, and the
 * length checks of a constructor.
 */
export abstract class HistoryModel {
  readonly family: string;
  readonly task: ModelTask = 'ranking';
  readonly numUsers: number;
  readonly numItems: number;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly history: Csr;
  readonly popularity: Float32Array;
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: TrainingLog;
  readonly #className: string;

  constructor(className: string, init: HistoryModelInit) {
    this.#className = className;
    this.family = init.family;
    this.users = init.users;
    this.items = init.items;
    this.numUsers = init.users.size;
    this.numItems = init.items.size;
    this.history = init.history;
    this.popularity = init.popularity;
    this.config = init.config ?? {};
    this.log = init.log ?? { engine: init.family, epochs: [] };
    this.expectLength('popularity', this.popularity.length, this.numItems);
    this.expectLength('history.offsets', this.history.offsets.length, this.numUsers + 1);
  }

  /** A RangeError naming the class and the array when `got` is not `want`. */
  protected expectLength(what: string, got: number, want: number): void {
    if (got !== want) throw new RangeError(`${this.#className}: ${what} has length ${got}, expected ${want}`);
  }

  protected checkUser(user: number): void {
    checkUserIndex(user, this.numUsers);
  }

  protected checkItem(item: number): void {
    checkItemIndex(item, this.numItems);
  }

  trainedHistory(user: number): Int32Array | undefined {
    if (!(Number.isInteger(user) && user >= 0 && user < this.numUsers)) return undefined;
    return csrRow(this.history, user).items;
  }
}
