/**
 * Validation rules that refuse a query before it runs: too deep (nested fields) or too costly (estimated number of
 * resolved fields, with list fields multiplying their selection by their size argument). Both run once per distinct
 * document (Apollo caches validated documents), not per request.
 *
 * Time is linear in the document: every fragment's depth and cost is computed once and memoised, so a fragment that
 * spreads the previous one twice (2ⁿ paths) costs n steps, not 2ⁿ. Fragment cycles are refused by graphql-js'
 * NoFragmentCycles rule (same validation pass); here a spread back into a fragment still being measured counts 0,
 * so a cyclic document cannot loop. Fragments are evaluated with an explicit stack, so a long chain of fragments
 * cannot overflow the call stack either.
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';

/**
 * Size of the list a field returns, by field name: the argument that bounds it, its default (the SDL default), and
 * its maximum (what a variable without a default is assumed to be, since validation does not see variables).
 */
const LIST_SIZES: Record<string, { arg?: string; default: number; max: number }> = {
  recommendations: { arg: 'limit', default: 10, max: 100 },
  similarMovies: { arg: 'limit', default: 10, max: 100 },
  because: { arg: 'limit', default: 3, max: 10 },
  movies: { arg: 'first', default: 20, max: 100 },
  ratings: { arg: 'first', default: 20, max: 100 },
  modelVersions: { default: 20, max: 20 },
  epochs: { default: 20, max: 20 },
};

/**
 * What a field makes the server do, beyond resolving it (1), in the same unit (≈ one field resolved, ~1 µs):
 * `scan` fields score the whole catalogue for a (user, filter) pair or a movie (a typed-array pass over every movie);
 * the others read or write the database, fold a user in, or search every title. Aliases add up: each alias of a
 * scan field is another scan, whether or not the top-N cache would have it.
 */
const FIELD_COST: Record<string, number | 'scan'> = {
  recommendations: 'scan',
  similarMovies: 'scan',
  predictRating: 20,
  movies: 20,
  user: 20,
  ratings: 20,
  modelVersions: 20,
  rateMovie: 200,
  recordView: 200,
};

export interface QueryLimits {
  /** Deepest field nesting allowed (a root field is depth 1; introspection fields are exempt, their cost counts). */
  maxDepth: number;
  /** Largest estimated cost allowed (see `measureDocument`). */
  maxCost: number;
  /**
   * Cost of one catalogue scan (`recommendations`, `similarMovies`); the server passes ⌈movies / 10⌉ of the active
   * model (≥ 100), i.e. a scan of the bundled 9,066 movies costs 907. A function: read when a document is validated.
   */
  scanCost?: number | (() => number);
}

/** Cost of one catalogue scan for a catalogue of `movies` movies: ⌈movies / 10⌉, at least 100. */
export function scanCostFor(movies: number): number {
  return Math.max(100, Math.ceil(movies / 10));
}

/**
 * Defaults: depth 8; cost 100,000 — the GraphQL console's full introspection query is estimated at 64k–67k here (an
 * upper bound: every type assumed to have the most fields), a request may scan the bundled catalogue ~110 times.
 * A scan costs 100 until the server says otherwise (it passes scanCostFor(movies)).
 */
export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 100_000 };

/**
 * List sizes of the introspection fields, taken from the schema itself: the number of types and directives, and the
 * most fields / arguments / enum values / … any one type has. Introspection is counted like any other query.
 */
function introspectionSizes(schema: GraphQLSchema): Record<string, number> {
  // duck-typed rather than isObjectType & co.: those are instanceof checks, which fail when the schema was built by
  // another copy of graphql-js (vitest loads graphql's ESM build for our code while Apollo gets the CommonJS one)
  const types = Object.values(schema.getTypeMap()) as unknown as Array<Record<string, unknown>>;
  const call = <T>(t: Record<string, unknown>, name: string): T | undefined =>
    typeof t[name] === 'function' ? (t[name] as () => T).call(t) : undefined;
  // the largest count of each kind over the schema's types
  const most = { fields: 0, args: 0, inputFields: 0, enumValues: 0, interfaces: 0, possibleTypes: 0 };
  for (const t of types) {
    const fs = call<Record<string, { args?: unknown[] }>>(t, 'getFields');
    const ifaces = call<unknown[]>(t, 'getInterfaces');
    if (fs !== undefined && ifaces !== undefined) {
      const list = Object.values(fs);
      most.fields = Math.max(most.fields, list.length);
      for (const f of list) most.args = Math.max(most.args, f.args?.length ?? 0);
      most.interfaces = Math.max(most.interfaces, ifaces.length);
      if (typeof t.resolveType !== 'undefined' && !('isTypeOf' in t)) {
        most.possibleTypes = Math.max(most.possibleTypes, schema.getPossibleTypes(t as never).length);
      }
    } else if (fs !== undefined) most.inputFields = Math.max(most.inputFields, Object.keys(fs).length);
    const values = call<unknown[]>(t, 'getValues');
    if (values !== undefined) most.enumValues = Math.max(most.enumValues, values.length);
    const members = call<unknown[]>(t, 'getTypes');
    if (members !== undefined) most.possibleTypes = Math.max(most.possibleTypes, members.length);
  }
  const directives = schema.getDirectives();
  for (const d of directives) most.args = Math.max(most.args, d.args.length);
  return {
    types: types.length,
    ...most,
    directives: directives.length,
  };
}

const introspectionCache = new WeakMap<GraphQLSchema, Record<string, number>>();

/** Depth and cost of one selection set (an operation's or a fragment's). */
export interface Measure {
  depth: number;
  cost: number;
}

/**
 * The worst case of each variable over the document's operations: its default where every operation that declares
 * it gives an integer default, else undefined (the argument's maximum is then assumed). A fragment may be spread by
 * several operations; measuring it once against the worst case keeps the work linear and the estimate an upper bound
 * (for the usual one-operation document it is exact).
 */
function variableDefaults(doc: DocumentNode): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const def of doc.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of def.variableDefinitions ?? []) {
      const name = v.variable.name.value;
      const dv = v.defaultValue;
      const n = dv?.kind === Kind.INT ? Number(dv.value) : undefined;
      if (!out.has(name)) out.set(name, n);
      else {
        const prev = out.get(name);
        out.set(name, prev === undefined || n === undefined ? undefined : Math.max(prev, n));
      }
    }
  }
  return out;
}

function argumentSize(
  value: ValueNode | undefined,
  spec: { default: number; max: number },
  defaults: Map<string, number | undefined>,
): number {
  const clamp = (n: number) => Math.max(0, Math.min(n, spec.max));
  if (value === undefined) return spec.default;
  if (value.kind === Kind.INT) return clamp(Number(value.value));
  if (value.kind === Kind.VARIABLE) {
    const d = defaults.get(value.name.value);
    return d === undefined ? spec.max : clamp(d);
  }
  return spec.max;
}

/** The fragment names spread (directly or through inline fragments) in a selection set. */
function spreadsOf(set: SelectionSetNode, out: string[] = []): string[] {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FRAGMENT_SPREAD) out.push(sel.name.value);
    else if (sel.selectionSet) spreadsOf(sel.selectionSet, out);
  }
  return out;
}

/**
 * Measures every operation of a document, each fragment once.
 *
 * depth(set) = max over its selections: a field 1 + depth(its selection), an inline fragment or spread the depth of
 * its selection; introspection fields (`__schema`, `__type`, `__typename` and all below them) are exempt.
 * cost(set) = Σ over fields of own + size × cost(selection of field), where own is 1 + FIELD_COST (a scan field:
 * + scanCost) and size is the list length bound of LIST_SIZES, or for introspection the schema's own list sizes
 * (1 for other fields). A fragment on an introspection type (`on __Type`) is measured with introspection's sizes.
 */
export function measureDocument(
  doc: DocumentNode,
  schema?: GraphQLSchema,
  scanCost = 100,
): Map<OperationDefinitionNode, Measure> {
  let introspection: Record<string, number> = {};
  if (schema !== undefined) {
    introspection = introspectionCache.get(schema) ?? introspectionSizes(schema);
    introspectionCache.set(schema, introspection);
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const defaults = variableDefaults(doc);
  /** Measured fragments; a name mapped to `null` is being measured (a spread back into it is a cycle: 0). */
  const memo = new Map<string, Measure | null>();
  const ZERO: Measure = { depth: 0, cost: 0 };
  const fragmentMeasure = (name: string): Measure => memo.get(name) ?? ZERO;

  const measureSet = (set: SelectionSetNode, inIntrospection = false): Measure => {
    let depth = 0;
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        const intro = inIntrospection || name.startsWith('__');
        const inner = sel.selectionSet ? measureSet(sel.selectionSet, intro) : ZERO;
        let size = 1;
        let own = 1;
        if (intro) size = introspection[name] ?? 1;
        else {
          const spec = LIST_SIZES[name];
          if (spec !== undefined) {
            const arg =
              spec.arg === undefined
                ? undefined
                : sel.arguments?.find((a) => a.name.value === spec.arg)?.value;
            size = spec.arg === undefined ? spec.default : argumentSize(arg, spec, defaults);
          }
          const extra = FIELD_COST[name];
          if (extra !== undefined) own += extra === 'scan' ? scanCost : extra;
        }
        if (!intro) depth = Math.max(depth, 1 + inner.depth);
        cost += own + size * inner.cost;
      } else {
        const m =
          sel.kind === Kind.INLINE_FRAGMENT ? measureSet(sel.selectionSet) : fragmentMeasure(sel.name.value);
        depth = Math.max(depth, m.depth);
        cost += m.cost;
      }
    }
    return { depth, cost };
  };

  // Post-order over the fragment graph with an explicit stack: a fragment is measured once all it spreads are.
  for (const root of fragments.keys()) {
    if (memo.has(root)) continue;
    const stack: { name: string; deps: string[]; next: number }[] = [];
    const enter = (name: string) => {
      memo.set(name, null);
      stack.push({ name, deps: spreadsOf(fragments.get(name)!.selectionSet), next: 0 });
    };
    enter(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.deps.length) {
        const dep = top.deps[top.next++]!;
        if (fragments.has(dep) && !memo.has(dep)) enter(dep);
        continue;
      }
      stack.pop();
      const frag = fragments.get(top.name)!;
      // a fragment on an introspection type (`on __Type`) is measured with introspection's sizes
      memo.set(top.name, measureSet(frag.selectionSet, frag.typeCondition.name.value.startsWith('__')));
    }
  }

  const out = new Map<OperationDefinitionNode, Measure>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) out.set(def, measureSet(def.selectionSet));
  }
  return out;
}

/** A validation rule refusing operations deeper than `maxDepth` or costlier than `maxCost`. */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_LIMITS): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    Document(doc) {
      const scan = typeof limits.scanCost === 'function' ? limits.scanCost() : (limits.scanCost ?? 100);
      for (const [op, { depth, cost }] of measureDocument(doc, context.getSchema(), scan)) {
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `query too deep: fields nest ${depth} levels, the limit is ${limits.maxDepth}; split it into several queries`,
              { nodes: [op], extensions: { limit: 'depth', depth, maxDepth: limits.maxDepth } },
            ),
          );
        } else if (cost > limits.maxCost) {
          context.reportError(
            new GraphQLError(
              `query too costly: estimated cost ${cost} exceeds ${limits.maxCost} (each recommendations/similarMovies ` +
                `costs a catalogue scan, ${scan}; list fields multiply their selection by limit/first; ask for fewer ` +
                'items, fields or aliases)',
              { nodes: [op], extensions: { limit: 'cost', cost, maxCost: limits.maxCost } },
            ),
          );
        }
      }
      return false; // nothing below needs visiting
    },
  });
}
