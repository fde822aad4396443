/** The depth and cost validation rules, run by graphql-js' validate against the real schema. */
import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, queryLimitsRule } from '../src/graphql/limits.ts';
import { typeDefs } from '../src/http/server.ts';
import { fragmentBomb } from './attacks.ts';

const schema = buildSchema(typeDefs);

function check(query: string, limits = DEFAULT_LIMITS) {
  return validate(schema, parse(query, { maxTokens: 1e7 }), [queryLimitsRule(limits)]).map((e) => ({
    message: e.message,
    ...e.extensions,
  }));
}

describe('query limits', () => {
  it('measures depth through fragments and inline fragments, and ignores introspection', () => {
    const q = `{ user(id: "1") { ratings { edges { node { ...R } } } } }
      fragment R on Rating { ... on Rating { movie { id } } }`;
    expect(check(q, { maxDepth: 6, maxCost: 1e9 })).toEqual([]);
    expect(check(q, { maxDepth: 5, maxCost: 1e9 })).toEqual([
      expect.objectContaining({ limit: 'depth', depth: 6, maxDepth: 5 }),
    ]);
    const introspection = `{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }`;
    expect(check(introspection, { maxDepth: 2, maxCost: 10 })).toEqual([]);
  });

  it('multiplies list selections by limit/first: literal, variable default, or the maximum for a bare variable', () => {
    // 1 + 10 × (items 1 + 1 × (movie 1 + id 1)) = 31
    const lit = `{ recommendations(userId: "1", limit: 10) { items { movie { id } } } }`;
    expect(check(lit, { maxDepth: 10, maxCost: 31 })).toEqual([]);
    expect(check(lit, { maxDepth: 10, maxCost: 30 })).toEqual([
      expect.objectContaining({ limit: 'cost', cost: 31 }),
    ]);
    const withDefault = `query($n: Int = 10) { recommendations(userId: "1", limit: $n) { items { movie { id } } } }`;
    expect(check(withDefault, { maxDepth: 10, maxCost: 30 })).toEqual([
      expect.objectContaining({ cost: 31 }),
    ]);
    const bare = `query($n: Int) { recommendations(userId: "1", limit: $n) { items { movie { id } } } }`;
    expect(check(bare, { maxDepth: 10, maxCost: 1e9 })).toEqual([]);
    expect(check(bare, { maxDepth: 10, maxCost: 300 })).toEqual([expect.objectContaining({ cost: 301 })]);
    // the SDL default applies when the argument is absent
    const absent = `{ recommendations(userId: "1") { items { movie { id } } } }`;
    expect(check(absent, { maxDepth: 10, maxCost: 30 })).toEqual([expect.objectContaining({ cost: 31 })]);
  });

  it('counts a fragment spread each time it is used, and survives fragment cycles', () => {
    const q = `{ a: movie(id: "1") { ...M } b: movie(id: "2") { ...M } } fragment M on Movie { id title }`;
    // 2 × (1 + 2) = 6
    expect(check(q, { maxDepth: 10, maxCost: 5 })).toEqual([expect.objectContaining({ cost: 6 })]);
    const cyclic = `{ movie(id: "1") { ...A } } fragment A on Movie { id ...B } fragment B on Movie { title ...A }`;
    expect(() => check(cyclic)).not.toThrow();
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
