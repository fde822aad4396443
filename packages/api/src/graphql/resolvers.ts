/**
 * Resolvers for every field of schema.graphql. Reads come from the in-memory snapshot (models, catalogue, user
 * states); only `user.ratings`, `modelVersions`, `rateMovie` and `recordView` reach the database on a request. Each resolver
 * records what its answer depended on in `context.deps`, so the HTTP layer can cache the whole response.
 */
import { hasMetrics } from '@movierec/core';
import type { ModelVersionInfo } from '@movierec/db';
import {
  badInput,
  checkId,
  checkRange,
  checkRating,
  checkTime,
  checkWeight,
  missingModel,
  notFound,
} from '../errors.ts';
import type { MovieView } from '../serving/catalogue.ts';
import type { RecommenderService } from '../serving/service.ts';
import type { Snapshot, UserState } from '../serving/snapshot.ts';

/** What a response depended on: it may be cached while the snapshot is current and every user state valid. */
export interface CacheDeps {
  cacheable: boolean;
  users: UserState[];
  /** Pairs (catalogue index, stats version when read) of movies whose rating statistics the answer shows. */
  movieStats: number[];
}

export interface ApiContext {
  service: RecommenderService;
  deps: CacheDeps;
}

interface RecommendationParent {
  rank: number;
  score: number;
  movie: MovieView;
  item: number;
  state: UserState;
  snapshot: Snapshot;
}

interface UserParent {
  id: string;
  ratingCount: number;
}

function encodeCursor(parts: string): string {
  return Buffer.from(parts, 'utf8').toString('base64url');
}

function decodeCursor(argumentName: string, cursor: string, prefix: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(prefix))
    throw badInput(argumentName, `not a cursor this field produced: ${JSON.stringify(cursor)}`);
  return text.slice(prefix.length);
}

/** The catalogue index of an external movie ID, or NOT_FOUND naming the argument. */
function movieIndex(snapshot: Snapshot, argumentName: string, movieId: string): number {
  checkId(argumentName, movieId);
  const m = snapshot.catalogue.indexOf(movieId);
  if (m < 0) throw notFound(argumentName, `movie ${JSON.stringify(movieId)} not found`);
  return m;
}

function checkGenres(snapshot: Snapshot, genres: readonly string[] | null | undefined): string[] | null {
  if (genres === null || genres === undefined || genres.length === 0) return null;
  for (const g of genres) {
    if (!snapshot.catalogue.hasGenre(g)) {
      throw badInput(
        'genres',
        `unknown genre ${JSON.stringify(g)}; known genres: ${snapshot.catalogue.genreNames().join(', ')}`,
      );
    }
  }
  return [...genres];
}

async function userState(ctx: ApiContext, snapshot: Snapshot, userId: string): Promise<UserState> {
  const state = await ctx.service.userState(snapshot, userId);
  ctx.deps.users.push(state);
  return state;
}

export const resolvers = {
  Query: {
    async recommendations(
      _: unknown,
      args: { userId: string; limit: number; excludeRated: boolean; genres?: string[] | null },
      ctx: ApiContext,
    ) {
      checkId('userId', args.userId);
      checkRange('limit', args.limit, 1, 100);
      const snapshot = ctx.service.current();
      const genres = checkGenres(snapshot, args.genres);
      const state = await userState(ctx, snapshot, args.userId);
      const top = snapshot.topFor(state, args.excludeRated !== false, genres);
      const n = Math.min(args.limit, top.items.length);
      const items: RecommendationParent[] = [];
      const space = snapshot.recommending!.space;
      for (let j = 0; j < n; j++) {
        const item = top.items[j]!;
        items.push({
          rank: j + 1,
          score: top.scores[j]!,
          movie: space.viewOfItem(item)!,
          item,
          state,
          snapshot,
        });
      }
      return { userId: args.userId, items, source: state.source, modelVersion: snapshot.version };
    },

    async predictRating(
      _: unknown,
      args: { userId: string; movieId: string; at?: string | null },
      ctx: ApiContext,
    ) {
      checkId('userId', args.userId);
      const at = args.at == null ? Date.now() / 1000 : checkTime('at', args.at);
      const snapshot = ctx.service.current();
      const m = movieIndex(snapshot, 'movieId', args.movieId);
      if (snapshot.rating === null) {
        const v = snapshot.ranking!.version;
        throw missingModel('predictRating', 'rating', `only ranking model version ${v.id} (${v.family}) is`);
      }
      const state = await userState(ctx, snapshot, args.userId);
      const predicted = snapshot.predict(state, m, at);
      return { userId: args.userId, movie: snapshot.catalogue.view(m), ...predicted };
    },

    similarMovies(_: unknown, args: { movieId: string; limit: number }, ctx: ApiContext) {
      checkRange('limit', args.limit, 1, 100);
      const snapshot = ctx.service.current();
      const m = movieIndex(snapshot, 'movieId', args.movieId);
      const found = snapshot.similar(m);
      if (found === null) return [];
      const { served, top } = found;
      const n = Math.min(args.limit, top.items.length);
      const out: { movie: MovieView; similarity: number }[] = [];
      for (let j = 0; j < n; j++) {
        out.push({ movie: served.space.viewOfItem(top.items[j]!)!, similarity: top.scores[j]! });
      }
      return out;
    },

    movie(_: unknown, args: { id: string }, ctx: ApiContext) {
      const snapshot = ctx.service.current(false);
      return snapshot.catalogue.view(movieIndex(snapshot, 'id', args.id));
    },

    movies(
      _: unknown,
      args: { search?: string | null; genre?: string | null; first: number; after?: string | null },
      ctx: ApiContext,
    ) {
      checkRange('first', args.first, 1, 100);
      const snapshot = ctx.service.current(false);
      const cat = snapshot.catalogue;
      let after = -1;
      if (args.after !== null && args.after !== undefined) {
        const id = decodeCursor('after', args.after, 'movie:');
        after = cat.indexOf(id);
        if (after < 0)
          throw badInput(
            'after',
            `cursor points at movie ${JSON.stringify(id)}, which is not in the catalogue`,
          );
      }
      const page = cat.search(args.search ?? null, args.genre ?? null, args.first, after);
      const edges = page.indices.map((m) => ({
        cursor: encodeCursor(`movie:${cat.rows.externalIds[m]}`),
        node: cat.view(m),
      }));
      return {
        edges,
        totalCount: page.total,
        pageInfo: { hasNextPage: page.hasNext, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },

    async user(_: unknown, args: { id: string }, ctx: ApiContext): Promise<UserParent | null> {
      checkId('id', args.id);
      const snapshot = ctx.service.current(false);
      const state = await userState(ctx, snapshot, args.id);
      if (!state.exists) return null;
      return { id: args.id, ratingCount: state.ratingCount };
    },

    async modelVersions(_: unknown, __: unknown, ctx: ApiContext): Promise<ModelVersionInfo[]> {
      ctx.deps.cacheable = false;
      return ctx.service.db(() => ctx.service.store.listModelVersions());
    },

    activeModel(_: unknown, __: unknown, ctx: ApiContext): ModelVersionInfo | null {
      return ctx.service.snapshot?.version ?? null;
    },

    activeModels(_: unknown, __: unknown, ctx: ApiContext): ModelVersionInfo[] {
      return ctx.service.snapshot?.versions ?? [];
    },
  },

  Mutation: {
    async rateMovie(_: unknown, args: { userId: string; movieId: string; rating: number }, ctx: ApiContext) {
      ctx.deps.cacheable = false;
      checkId('userId', args.userId);
      checkRating(args.rating);
      const snapshot = ctx.service.current(false);
      const m = movieIndex(snapshot, 'movieId', args.movieId);
      const { stored, state, snapshot: used } = await ctx.service.rate(args.userId, m, args.rating);
      return {
        rating: { movie: used.catalogue.view(m), rating: args.rating, ratedAt: stored.ratedAt.toISOString() },
        user: { id: args.userId, ratingCount: state.ratingCount } satisfies UserParent,
        foldedInRatings: state.foldedIn,
      };
    },

    async recordView(_: unknown, args: { userId: string; movieId: string; weight: number }, ctx: ApiContext) {
      ctx.deps.cacheable = false;
      checkId('userId', args.userId);
      checkWeight('weight', args.weight);
      const snapshot = ctx.service.current(false);
      const m = movieIndex(snapshot, 'movieId', args.movieId);
      const { stored, state, snapshot: used } = await ctx.service.view(args.userId, m, args.weight);
      return {
        view: {
          movie: used.catalogue.view(m),
          weight: stored.weight,
          viewedAt: stored.viewedAt.toISOString(),
        },
        user: { id: args.userId, ratingCount: state.ratingCount } satisfies UserParent,
        foldedInInteractions: state.foldedIn,
        source: state.source,
      };
    },
  },

  Recommendation: {
    because(parent: RecommendationParent, args: { limit: number }) {
      checkRange('limit', args.limit, 0, 10);
      const out: MovieView[] = [];
      const space = parent.snapshot.recommending!.space;
      for (const item of parent.snapshot.because(parent.state, parent.item, args.limit)) {
        const v = space.viewOfItem(item);
        if (v !== null) out.push(v);
      }
      return out;
    },
  },

  // @movierec/db's ModelVersionInfo → the GraphQL ModelVersion (one type from the database to the schema)
  ModelVersion: {
    id: (v: ModelVersionInfo) => String(v.id),
    task: (v: ModelVersionInfo) => v.task.toUpperCase(),
    createdAt: (v: ModelVersionInfo) => v.createdAt.toISOString(),
    config: (v: ModelVersionInfo) => JSON.stringify(v.config ?? {}),
    // core's Metrics as stored (ModelMetrics shows its fields; absent ones are null)
    metrics: (v: ModelVersionInfo) => (hasMetrics(v.metrics) ? v.metrics : null),
    trainingRun(v: ModelVersionInfo) {
      const run = v.trainingRun;
      if (run === null) return null;
      return {
        id: String(run.id),
        epochs: (run.epochs ?? []).map((e) => ({
          epoch: e.epoch,
          loss: e.loss,
          validationRmse: num(e.validationRmse),
          validationMae: num(e.validationMae),
          seconds: num(e.seconds),
        })),
      };
    },
  },

  Movie: {
    ratingCount(parent: MovieView, _: unknown, ctx: ApiContext) {
      ctx.deps.movieStats.push(parent.index, parent.statsVersion);
      return parent.ratingCount;
    },
    averageRating(parent: MovieView, _: unknown, ctx: ApiContext) {
      ctx.deps.movieStats.push(parent.index, parent.statsVersion);
      return parent.averageRating;
    },
  },

  User: {
    async ratings(parent: UserParent, args: { first: number; after?: string | null }, ctx: ApiContext) {
      checkRange('first', args.first, 1, 100);
      ctx.deps.cacheable = false;
      let after: { ratedAt: Date; movieId: string } | null = null;
      if (args.after !== null && args.after !== undefined) {
        const text = decodeCursor('after', args.after, 'rating:');
        const colon = text.indexOf(':');
        const ms = Number(text.slice(0, colon));
        if (colon < 0 || !Number.isFinite(ms))
          throw badInput('after', `malformed cursor ${JSON.stringify(args.after)}`);
        after = { ratedAt: new Date(ms), movieId: text.slice(colon + 1) };
      }
      const snapshot = ctx.service.current(false);
      const page = await ctx.service.db(() => ctx.service.store.ratingPage(parent.id, args.first, after));
      const rows = page?.rows ?? [];
      const edges = [];
      for (const r of rows) {
        const m = snapshot.catalogue.indexOf(r.movieId);
        if (m < 0) continue;
        edges.push({
          cursor: encodeCursor(`rating:${r.ratedAt.getTime()}:${r.movieId}`),
          node: { movie: snapshot.catalogue.view(m), rating: r.rating, ratedAt: r.ratedAt.toISOString() },
        });
      }
      return {
        edges,
        totalCount: page?.total ?? 0,
        pageInfo: { hasNextPage: page?.hasNext ?? false, endCursor: edges.at(-1)?.cursor ?? null },
      };
    },
  },
};

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
