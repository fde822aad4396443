/** The depth and cost validation rules, run by graphql-js' validate against the real schema. */
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type QueryLimits, queryLimitsRule, scanCostFor } from '../src/graphql/limits.ts';
import { typeDefs } from '../src/http/server.ts';
import { fragmentBomb } from './attacks.ts';

const schema = buildSchema(typeDefs);

/** Validates with the limits' rule alone; a scan costs 100 unless the limits say otherwise. */
function check(query: string, limits: QueryLimits = DEFAULT_LIMITS) {
  return validate(schema, parse(query, { maxTokens: 1e7 }), [queryLimitsRule(limits)]).map((e) => ({
    message: e.message,
    ...e.extensions,
  }));
}

describe('query limits', () => {
  it('measures depth through fragments and inline fragments; introspection is exempt from depth, not from cost', () => {
    const q = `{ user(id: "1") { ratings { edges { node { ...R } } } } }
      fragment R on Rating { ... on Rating { movie { id } } }`;
    expect(check(q, { maxDepth: 6, maxCost: 1e9 })).toEqual([]);
    expect(check(q, { maxDepth: 5, maxCost: 1e9 })).toEqual([
      expect.objectContaining({ limit: 'depth', depth: 6, maxDepth: 5 }),
    ]);
    const introspection = `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`;
    expect(check(introspection, { maxDepth: 2, maxCost: 1e9 })).toEqual([]);
    expect(check(introspection, { maxDepth: 2, maxCost: 10 })).toEqual([
      expect.objectContaining({ limit: 'cost' }),
    ]);
  });

  it('multiplies list selections by limit/first: literal, variable default, or the maximum for a bare variable', () => {
    // (1 + scan 100) + 10 × (items 1 + 1 × (movie 1 + id 1)) = 131
    const lit = `{ recommendations(userId: "1", limit: 10) { items { movie { id } } } }`;
    expect(check(lit, { maxDepth: 10, maxCost: 131 })).toEqual([]);
    expect(check(lit, { maxDepth: 10, maxCost: 130 })).toEqual([
      expect.objectContaining({ limit: 'cost', cost: 131 }),
    ]);
    const withDefault = `query($n: Int = 10) { recommendations(userId: "1", limit: $n) { items { movie { id } } } }`;
    expect(check(withDefault, { maxDepth: 10, maxCost: 130 })).toEqual([
      expect.objectContaining({ cost: 131 }),
    ]);
    const bare = `query($n: Int) { recommendations(userId: "1", limit: $n) { items { movie { id } } } }`;
    expect(check(bare, { maxDepth: 10, maxCost: 1e9 })).toEqual([]);
    expect(check(bare, { maxDepth: 10, maxCost: 300 })).toEqual([expect.objectContaining({ cost: 401 })]);
    // the SDL default applies when the argument is absent
    const absent = `{ recommendations(userId: "1") { items { movie { id } } } }`;
    expect(check(absent, { maxDepth: 10, maxCost: 30 })).toEqual([expect.objectContaining({ cost: 131 })]);
  });

  it('counts a fragment spread each time it is used, and survives fragment cycles', () => {
    const q = `{ a: movie(id: "1") { ...M } b: movie(id: "2") { ...M } } fragment M on Movie { id title }`;
    // 2 × (1 + 2) = 6
    expect(check(q, { maxDepth: 10, maxCost: 5 })).toEqual([expect.objectContaining({ cost: 6 })]);
    const cyclic = `{ movie(id: "1") { ...A } } fragment A on Movie { id ...B } fragment B on Movie { title ...A }`;
    expect(() => check(cyclic)).not.toThrow();
  });

  it('charges a catalogue scan per recommendations/similarMovies alias, and counts introspection aliases', () => {
    // the issue's alias attack: distinct (user, genre) pairs, each alias a scan of the bundled catalogue (907)
    const scan = scanCostFor(9_066);
    expect(scan).toBe(907);
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: recommendations(userId: "${i}", limit: 1, genres: ["Drama"]) { source }`).join(' ')} }`;
    // each alias: 1 + 907 + 1 × (source 1) = 909
    expect(check(aliases(2400), { ...DEFAULT_LIMITS, scanCost: scan })).toEqual([
      expect.objectContaining({ limit: 'cost', cost: 2400 * 909 }),
    ]);
    const allowed = Math.floor(DEFAULT_LIMITS.maxCost / 909);
    expect(check(aliases(allowed), { ...DEFAULT_LIMITS, scanCost: scan })).toEqual([]);
    expect(check(aliases(allowed + 1), { ...DEFAULT_LIMITS, scanCost: scan })).toHaveLength(1);
    const similar = `{ a: similarMovies(movieId: "1", limit: 1) { similarity } b: similarMovies(movieId: "2", limit: 1) { similarity } }`;
    expect(check(similar, { maxDepth: 8, maxCost: 1e9, scanCost: 500 })).toEqual([]);
    expect(check(similar, { maxDepth: 8, maxCost: 1003, scanCost: 500 })).toEqual([
      expect.objectContaining({ cost: 2 * (1 + 500 + 1) }), // each: 1 + scan + 1 × (similarity 1)
    ]);
    // 2,000 aliases of a full __schema walk: the console's one introspection query passes, thousands do not
    const fullIntrospection = getIntrospectionQuery();
    expect(check(fullIntrospection)).toEqual([]);
    const schemaAliases = `{ ${Array.from({ length: 2000 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join(' ')} }`;
    expect(check(schemaAliases)).toEqual([expect.objectContaining({ limit: 'cost' })]);
    // the mutation counts its write and fold-in
    const rate = `mutation { a: rateMovie(userId: "1", movieId: "1", rating: 4) { foldedInRatings } }`;
    expect(check(rate, { maxDepth: 8, maxCost: 201 })).toEqual([expect.objectContaining({ cost: 202 })]);
  });

  it('lets the web page’s and README’s typical queries through with the default limits', () => {
    const page = `query($u: ID!) { recommendations(userId: $u, limit: 20) { source modelVersion { id }
      items { rank score movie { id title year genres ratingCount averageRating } because(limit: 3) { id title } } } }`;
    expect(check(page)).toEqual([]);
    const search = `{ movies(search: "star", first: 100) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id title year genres ratingCount averageRating } } } }`;
    expect(check(search)).toEqual([]);
  });

  it('measures each fragment once: the 2ⁿ fragment attack (n = 29, n = 60) is refused, not walked', () => {
    for (const n of [29, 60]) {
      const q = fragmentBomb(n);
      // cost = 1 (movie) + 2ⁿ (each fragment doubles the one before); an exponential walk would never finish n = 60
      expect(check(q)).toEqual([expect.objectContaining({ limit: 'cost', cost: 1 + 2 ** n })]);
      // and with graphql-js' own rules in the same pass, as Apollo runs them
      const errors = validate(schema, parse(q), [...specifiedRules, queryLimitsRule(DEFAULT_LIMITS)]);
      expect(errors.map((e) => e.extensions.limit)).toContain('cost');
    }
  });

  it('survives a 5,000-fragment chain and a cycle in the same pass as NoFragmentCycles', () => {
    const n = 5_000;
    const parts = ['{ movie(id: "1") { ...F0 } } fragment Fz on Movie { id }'];
    for (let i = 0; i < n; i++)
      parts.push(`fragment F${i} on Movie { id ...${i + 1 < n ? `F${i + 1}` : 'Fz'} }`);
    // cost: movie 1 + n ids + 1 for Fz's id
    expect(check(parts.join('\n'), { maxDepth: 8, maxCost: 1e9 })).toEqual([]);
    expect(check(parts.join('\n'), { maxDepth: 8, maxCost: n })).toEqual([
      expect.objectContaining({ limit: 'cost', cost: n + 2 }),
    ]);
    const cyclic = `{ movie(id: "1") { ...A } } fragment A on Movie { id ...B ...B } fragment B on Movie { title ...A ...A }`;
    const errors = validate(schema, parse(cyclic), [...specifiedRules, queryLimitsRule(DEFAULT_LIMITS)]);
    expect(errors.map((e) => e.message).join('\n')).toMatch(/Cannot spread fragment "A" within itself/);
  }, 30_000);
});
