/**
 * Validation rules that refuse a query before it runs: too deep (nested fields) or too costly (estimated number of
 * resolved fields, with list fields multiplying their selection by their size argument). Both run once per distinct
 * document (Apollo caches validated documents), not per request.
 */
import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
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
  /** Largest estimated cost allowed (see `estimateCost`). */
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 8, maxCost: 5_000 };

type Fragments = (name: string) => FragmentDefinitionNode | null | undefined;

/** Deepest field nesting under a selection set, following fragments (each followed once per path). */
export function selectionDepth(
  set: SelectionSetNode,
  fragments: Fragments,
  seen: ReadonlySet<string> = new Set(),
): number {
  let deepest = 0;
  for (const sel of set.selections) {
    let d = 0;
    if (sel.kind === 'Field') {
      if (sel.name.value.startsWith('__')) continue; // introspection is exempt
      d = 1 + (sel.selectionSet ? selectionDepth(sel.selectionSet, fragments, seen) : 0);
    } else if (sel.kind === 'InlineFragment') {
      d = selectionDepth(sel.selectionSet, fragments, seen);
    } else {
      const name = sel.name.value;
      const frag = fragments(name);
      if (frag && !seen.has(name)) d = selectionDepth(frag.selectionSet, fragments, new Set([...seen, name]));
    }
    if (d > deepest) deepest = d;
  }
  return deepest;
}

function argumentSize(
  value: ValueNode | undefined,
  spec: { default: number; max: number },
  op: OperationDefinitionNode,
): number {
  if (value === undefined) return spec.default;
  if (value.kind === 'IntValue') return Math.max(0, Math.min(Number(value.value), spec.max));
  if (value.kind === 'Variable') {
    const def = op.variableDefinitions?.find((v) => v.variable.name.value === value.name.value);
    const dv = def?.defaultValue;
    return dv?.kind === 'IntValue' ? Math.max(0, Math.min(Number(dv.value), spec.max)) : spec.max;
  }
  return spec.max;
}

/**
 * Estimated cost: cost(field) = 1 + size(field) × cost(selection of field), summed over a selection set, where
 * size is the list length bound of LIST_SIZES (1 for other fields). Introspection fields cost nothing.
 */
export function estimateCost(
  set: SelectionSetNode,
  fragments: Fragments,
  op: OperationDefinitionNode,
  seen: ReadonlySet<string> = new Set(),
): number {
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === 'Field') {
      const name = sel.name.value;
      if (name.startsWith('__')) continue;
      const spec = LIST_SIZES[name];
      let size = 1;
      if (spec !== undefined) {
        const arg =
          spec.arg === undefined ? undefined : sel.arguments?.find((a) => a.name.value === spec.arg)?.value;
        size = spec.arg === undefined ? spec.default : argumentSize(arg, spec, op);
      }
      total += 1 + size * (sel.selectionSet ? estimateCost(sel.selectionSet, fragments, op, seen) : 0);
    } else if (sel.kind === 'InlineFragment') {
      total += estimateCost(sel.selectionSet, fragments, op, seen);
    } else {
      const fname = sel.name.value;
      const frag = fragments(fname);
      if (frag && !seen.has(fname))
        total += estimateCost(frag.selectionSet, fragments, op, new Set([...seen, fname]));
    }
  }
  return total;
}

/** A validation rule refusing operations deeper than `maxDepth` or costlier than `maxCost`. */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_LIMITS): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(op) {
      const fragments: Fragments = (name) => context.getFragment(name);
      const depth = selectionDepth(op.selectionSet, fragments);
      if (depth > limits.maxDepth) {
        context.reportError(
          new GraphQLError(
            `query too deep: fields nest ${depth} levels, the limit is ${limits.maxDepth}; split it into several queries`,
            { nodes: [op], extensions: { limit: 'depth', depth, maxDepth: limits.maxDepth } },
          ),
        );
        return;
      }
      const cost = estimateCost(op.selectionSet, fragments, op);
      if (cost > limits.maxCost) {
        context.reportError(
          new GraphQLError(
            `query too costly: estimated cost ${cost} exceeds ${limits.maxCost} (list fields multiply their selection ` +
              'by limit/first; ask for fewer items or fields)',
            { nodes: [op], extensions: { limit: 'cost', cost, maxCost: limits.maxCost } },
          ),
        );
      }
    },
  });
}
