/** The depth and cost validation rules, run by graphql-js' validate against the real schema. */
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, queryLimitsRule } from '../src/graphql/limits.ts';
import { typeDefs } from '../src/http/server.ts';

const schema = buildSchema(typeDefs);

function check(query: string, limits = DEFAULT_LIMITS) {
  return validate(schema, parse(query), [queryLimitsRule(limits)]).map((e) => ({
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
});
