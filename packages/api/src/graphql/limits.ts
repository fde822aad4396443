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

export interface QueryLimits {
  /** Deepest field nesting allowed (a root field is depth 1). */
  maxDepth: number;
  /** Largest estimated cost allowed (see `measureDocument`). */
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 5_000 };

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
 * its selection; introspection fields (`__schema`, `__type`, …) are exempt.
 * cost(set) = Σ over fields of 1 + size × cost(selection of field), where size is the list length bound of
 * LIST_SIZES (1 for other fields); introspection fields cost nothing.
 */
export function measureDocument(doc: DocumentNode): Map<OperationDefinitionNode, Measure> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const defaults = variableDefaults(doc);
  /** Measured fragments; a name mapped to `null` is being measured (a spread back into it is a cycle: 0). */
  const memo = new Map<string, Measure | null>();
  const ZERO: Measure = { depth: 0, cost: 0 };
  const fragmentMeasure = (name: string): Measure => memo.get(name) ?? ZERO;

  const measureSet = (set: SelectionSetNode): Measure => {
    let depth = 0;
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = sel.name.value;
        if (name.startsWith('__')) continue;
        const inner = sel.selectionSet ? measureSet(sel.selectionSet) : ZERO;
        const spec = LIST_SIZES[name];
        let size = 1;
        if (spec !== undefined) {
          const arg =
            spec.arg === undefined ? undefined : sel.arguments?.find((a) => a.name.value === spec.arg)?.value;
          size = spec.arg === undefined ? spec.default : argumentSize(arg, spec, defaults);
        }
        depth = Math.max(depth, 1 + inner.depth);
        cost += 1 + size * inner.cost;
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
      memo.set(top.name, measureSet(fragments.get(top.name)!.selectionSet));
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
      for (const [op, { depth, cost }] of measureDocument(doc)) {
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
              `query too costly: estimated cost ${cost} exceeds ${limits.maxCost} (list fields multiply their selection ` +
                'by limit/first; ask for fewer items or fields)',
              { nodes: [op], extensions: { limit: 'cost', cost, maxCost: limits.maxCost } },
            ),
          );
        }
      }
      return false; // nothing below needs visiting
    },
  });
}
