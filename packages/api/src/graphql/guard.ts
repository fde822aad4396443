/**
 * Guards around the resolvers that do real work: who may call them (the caller's token: `sub` = user ID, `admin`
 * scope), a per-request execution budget in the limits' cost unit, and a bound on how long a request keeps the event
 * loop. The resolvers themselves stay unaware of all three; `guardResolvers` wraps them once at server start.
 *
 * Why the yield: graphql-js starts every sibling field in one synchronous pass and their continuations run back to
 * back as microtasks, so 50 aliases of `recommendations` would score 50 catalogues without letting a timer or
 * socket run in between. Here a request's expensive fields run one after another, and before each one the request
 * yields to the event loop (setImmediate) once the current slice of synchronous work is longer than SLICE_MS.
 */
import { GraphQLError } from 'graphql';
import type { Identity } from '../auth/tokens.ts';

/** Longest slice of synchronous work before an expensive field yields to the event loop (ms). */
export const SLICE_MS = 10;

let sliceStart = 0;
let turnPending = false;

/** How often expensive fields gave the event loop back (for tests and metrics). */
export const guardStats = { yields: 0 };

/** Notes the start of the current event-loop turn (the first call in a turn) and when the loop will turn again. */
function markTurn(): void {
  if (turnPending) return;
  turnPending = true;
  sliceStart = performance.now();
  setImmediate(() => {
    turnPending = false;
  });
}

/** Yields to the event loop when the current turn has run longer than SLICE_MS. */
export async function yieldIfLong(): Promise<void> {
  markTurn();
  if (performance.now() - sliceStart <= SLICE_MS) return;
  guardStats.yields++;
  await new Promise<void>((done) => setImmediate(done));
  markTurn();
}

/** A request's execution budget: cost units spent by the fields it ran, and the serial queue of expensive fields. */
export class Budget {
  spent = 0;
  #tail: Promise<unknown> = Promise.resolve();
  constructor(readonly max: number) {}

  /** Charges `units` (throws BUDGET_EXCEEDED past the maximum), then runs `fn` after the request's earlier ones. */
  run<T>(units: number, fn: () => T | Promise<T>): Promise<T> {
    this.spent += units;
    if (this.spent > this.max) {
      return Promise.reject(
        new GraphQLError(
          `execution budget exceeded: this request has used ${this.spent} of ${this.max} cost units; split it`,
          { extensions: { code: 'BUDGET_EXCEEDED', spent: this.spent, max: this.max } },
        ),
      );
    }
    const next = this.#tail.then(async () => {
      await yieldIfLong();
      return fn();
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }
}

/** What the guards need from the request's context. */
export interface GuardContext {
  identity: Identity;
  budget: Budget;
}

/** FORBIDDEN / UNAUTHENTICATED for a field reserved to one user (or an admin). */
export function checkUser(identity: Identity, userId: string, what: string): void {
  if (identity.admin || identity.sub === userId) return;
  if (identity.sub === null) {
    throw new GraphQLError(
      `${what} of user ${JSON.stringify(userId)} needs a bearer token for that user (Authorization: Bearer …; ` +
        'on a local demo server POST /auth/demo gives one)',
      { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } },
    );
  }
  throw new GraphQLError(
    `${what} of user ${JSON.stringify(userId)} is only for that user or an admin; your token is for user ` +
      `${JSON.stringify(identity.sub)}`,
    { extensions: { code: 'FORBIDDEN' } },
  );
}

type Resolver = (parent: unknown, args: Record<string, unknown>, ctx: GuardContext, info: unknown) => unknown;

/**
 * Per field: the cost units charged to the budget when it runs (the same figures as the static cost rule: a scan
 * field costs `scan`), and whose data it is (`user` reads the user ID from an argument or the parent).
 */
interface FieldGuard {
  cost: number | 'scan';
  owner?: { from: 'arg' | 'parent'; name: string; what: string };
}

const GUARDS: Record<string, Record<string, FieldGuard>> = {
  Query: {
    recommendations: { cost: 'scan', owner: { from: 'arg', name: 'userId', what: 'recommendations' } },
    predictRating: { cost: 20, owner: { from: 'arg', name: 'userId', what: 'a predicted rating' } },
    similarMovies: { cost: 'scan' },
    movies: { cost: 20 },
    user: { cost: 20 },
    modelVersions: { cost: 20 },
  },
  Mutation: {
    rateMovie: { cost: 200, owner: { from: 'arg', name: 'userId', what: 'rating a movie in the name' } },
    recordView: { cost: 200, owner: { from: 'arg', name: 'userId', what: 'recording a view in the name' } },
  },
  User: {
    ratings: { cost: 20, owner: { from: 'parent', name: 'id', what: 'the rating history' } },
  },
};

/** The resolver map with every guarded field wrapped (other fields untouched). `scanCost` is read per call. */
export function guardResolvers<R extends Record<string, Record<string, unknown>>>(
  resolvers: R,
  scanCost: () => number,
): R {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const guards = GUARDS[typeName] ?? {};
    const wrapped: Record<string, unknown> = { ...fields };
    for (const [field, guard] of Object.entries(guards)) {
      const inner = fields[field] as Resolver | undefined;
      if (typeof inner !== 'function') continue;
      wrapped[field] = (parent: unknown, args: Record<string, unknown>, ctx: GuardContext, info: unknown) => {
        const owner = guard.owner;
        if (owner !== undefined) {
          const source = owner.from === 'arg' ? args : (parent as Record<string, unknown>);
          checkUser(ctx.identity, String(source[owner.name]), owner.what);
        }
        const units = guard.cost === 'scan' ? scanCost() : guard.cost;
        return ctx.budget.run(units, () => inner(parent, args, ctx, info));
      };
    }
    out[typeName] = wrapped;
  }
  return out as R;
}
