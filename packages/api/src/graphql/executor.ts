/**
 * Execution of validated documents: graphql-jit (a compiler from a GraphQL document to a JavaScript function,
 * https://github.com/zalando-incubator/graphql-jit) for queries seen more than once, graphql-js' `execute` for the
 * rest, plugged into Apollo Server through its gateway interface (`load()` → `{ schema, executor }`, Apollo's
 * documented way to bring one's own executor). Apollo still parses, validates (our limits included) and caches the
 * document, runs the plugins and formats the response; only the execution step changes.
 *
 * What stays with graphql-js:
 * - mutations (a side effect runs once, by the reference executor; they are a database write anyway);
 * - a document's first COMPILE_AFTER executions (compiling costs ~1–2 ms: a rare document is cheaper to interpret);
 * - a request whose variables graphql-jit refuses: nothing has run yet, so graphql-js runs it and reports the
 *   error in its own words (the messages clients and tests already know).
 * Both paths run the same schema, hence the same resolvers wrapped by `guardResolvers` (auth, execution budget):
 * test/executor.test.ts asserts they answer alike, errors, refusals and the budget included.
 */
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  getOperationAST,
  type OperationDefinitionNode,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import { operationLabel } from '../http/metrics.ts';

/** Apollo's gateway interface (@apollo/server-gateway-interface, reached through @apollo/server's own types). */
type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewayExecutor = Awaited<ReturnType<GatewayInterface['load']>>['executor'];

/**
 * Executions of a document by graphql-js before it is compiled. Compiling one costs ~1–2 ms (measured on the
 * recommendations query, this machine, loaded); a compiled execution saves tens of µs: a document pays back after
 * a few dozen runs, and a client sending many distinct documents (the user written into the query text, as
 * ../shared/load/recs.lua does) should not pay a compile for each.
 */
export const COMPILE_AFTER = 40;

/** Builds the executable schema (graphql-tools, as Apollo does for `typeDefs` + `resolvers`). */
export function buildSchema(
  typeDefs: string,
  resolvers: Record<string, Record<string, unknown>>,
): GraphQLSchema {
  return makeExecutableSchema({ typeDefs, resolvers: resolvers as never });
}

interface DocumentPlan {
  /** Executions so far (compiled once it passes COMPILE_AFTER). */
  seen: number;
  /** The compiled query per operation name ('' for the document's only operation); null: not compilable. */
  compiled: Map<string, CompiledQuery | null>;
}

export interface ExecutorStats {
  /** Executions by a compiled query. */
  compiled: number;
  /** Executions by graphql-js. */
  interpreted: number;
  /** Documents compiled. */
  compilations: number;
  /** Requests answered without Apollo's pipeline (prepared queries; counted by the HTTP layer). */
  fastPath: number;
}

/** A graphql-jit executor with per-document compilation, plus graphql-js for what it should not run. */
export class CompilingExecutor {
  readonly schema: GraphQLSchema;
  /** Keyed by the document object Apollo hands over: its document store returns the same object for the same text. */
  readonly #plans = new WeakMap<DocumentNode, DocumentPlan>();
  readonly stats: ExecutorStats = { compiled: 0, interpreted: 0, compilations: 0, fastPath: 0 };
  readonly #enabled: boolean;
  readonly #compileAfter: number;
  /** Validated query operations by (operation name, query text). */
  readonly #prepared = new Map<string, PreparedOperation>();

  constructor(schema: GraphQLSchema, options: { compile?: boolean; compileAfter?: number } = {}) {
    this.schema = schema;
    this.#enabled = options.compile ?? true;
    this.#compileAfter = options.compileAfter ?? COMPILE_AFTER;
  }

  /** Runs one operation of a validated document. */
  run(
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | undefined,
    context: unknown,
  ): ExecutionResult | Promise<ExecutionResult> {
    const compiled = this.#enabled ? this.#compiledFor(document, operationName ?? null) : null;
    if (compiled === null) return this.#interpret(document, operationName, variables, context);
    const result = compiled.query(undefined, context, variables ?? {});
    const check = (r: ExecutionResult): ExecutionResult | Promise<ExecutionResult> => {
      // graphql-jit refused the variables before running anything: let graphql-js say why, in its words
      if (r.data === undefined && r.errors !== undefined && r.errors.length > 0)
        return this.#interpret(document, operationName, variables, context);
      this.stats.compiled++;
      return r;
    };
    return isPromise(result) ? result.then(check) : check(result);
  }

  #interpret(
    document: DocumentNode,
    operationName: string | null | undefined,
    variables: Record<string, unknown> | undefined,
    context: unknown,
  ): ExecutionResult | Promise<ExecutionResult> {
    this.stats.interpreted++;
    return execute({
      schema: this.schema,
      document,
      contextValue: context,
      ...(variables !== undefined ? { variableValues: variables } : {}),
      ...(operationName != null ? { operationName } : {}),
    });
  }

  /** The compiled query for a query operation run more than `compileAfter` times; null to interpret. */
  #compiledFor(document: DocumentNode, operationName: string | null): CompiledQuery | null {
    let plan = this.#plans.get(document);
    if (plan === undefined) {
      plan = { seen: 0, compiled: new Map() };
      this.#plans.set(document, plan);
    }
    const key = operationName ?? '';
    const done = plan.compiled.get(key);
    if (done !== undefined) return done;
    if (++plan.seen <= this.#compileAfter) return null;
    const operation = getOperationAST(document, operationName);
    let compiled: CompiledQuery | null = null;
    if (operation != null && operation.operation === 'query') {
      const out = compileQuery(this.schema, document, operationName ?? undefined, {
        disablingCapturingStackErrors: true,
      });
      if (isCompiledQuery(out)) compiled = out;
      this.stats.compilations++;
    }
    plan.compiled.set(key, compiled);
    return compiled;
  }

  /**
   * The operation Apollo validated for this query text and operation name, when it was a query; null otherwise
   * (never seen, a mutation, evicted, or validated against another catalogue scan cost).
   */
  prepared(query: string, operationName: string | null, scanCost: number): PreparedOperation | null {
    const p = this.#prepared.get(preparedKey(query, operationName));
    return p !== undefined && p.scanCost === scanCost ? p : null;
  }

  /** Remembers a query Apollo has parsed and validated (the limits included), for `prepared`. */
  #remember(
    query: string,
    operationName: string | null,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    scanCost: number,
  ): void {
    if (operation.operation !== 'query' || query.length > MAX_PREPARED_TEXT) return;
    const key = preparedKey(query, operationName);
    const old = this.#prepared.get(key);
    if (old !== undefined && old.document === document && old.scanCost === scanCost) return;
    if (old !== undefined) this.#prepared.delete(key);
    this.#prepared.set(key, { document, operationName, scanCost, label: operationLabel(operation) });
    // oldest out (insertion order)
    while (this.#prepared.size > MAX_PREPARED) this.#prepared.delete(this.#prepared.keys().next().value!);
  }

  /**
   * Apollo's gateway: our schema and this executor. Apollo still parses, validates (the limits included) and
   * caches the document, runs the plugins and formats the response. A context carrying `precomputed` (a result
   * the HTTP fast path already computed, with errors Apollo must format) is answered with it, not run again.
   */
  gateway(scanCost: () => number): GatewayInterface {
    const schema = this.schema;
    const executor: GatewayExecutor = async (requestContext) => {
      const context = requestContext.context as { precomputed?: ExecutionResult };
      const precomputed = context.precomputed;
      if (precomputed !== undefined) {
        context.precomputed = undefined;
        return precomputed;
      }
      const { document, operation, source, request } = requestContext;
      const operationName = request.operationName ?? null;
      if (operation !== undefined && source !== undefined)
        this.#remember(source, operationName, document, operation, scanCost());
      return this.run(document, operationName, request.variables, context);
    };
    return {
      async load() {
        return { schema, executor };
      },
      onSchemaLoadOrUpdate(callback) {
        callback({ apiSchema: schema, coreSupergraphSdl: '' });
        return () => {};
      },
      async stop() {},
    };
  }
}

/** A query document Apollo has validated: what the HTTP fast path needs to run it again without Apollo. */
export interface PreparedOperation {
  readonly document: DocumentNode;
  readonly operationName: string | null;
  /** The catalogue scan cost the document's cost was checked with. */
  readonly scanCost: number;
  /** The metrics label (operation type and root fields). */
  readonly label: string;
}

/** Most prepared operations kept, and the longest query text kept (a client's documents are few and short). */
const MAX_PREPARED = 1000;
const MAX_PREPARED_TEXT = 64 * 1024;

function preparedKey(query: string, operationName: string | null): string {
  return operationName === null ? query : `${operationName}\u0000${query}`;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown })?.then === 'function';
}
