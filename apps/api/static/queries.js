// The GraphQL operations the page sends; every field comes from apps/api/src/schema.graphql.

const movieFields = 'id title year genres ratingCount averageRating';

export const RECOMMENDATIONS = `query Recommendations($userId: ID!, $limit: Int) {
  recommendations(userId: $userId, limit: $limit, excludeRated: true) {
    userId
    source
    modelVersion { id }
    items {
      rank
      score
      movie { ${movieFields} }
      because(limit: 3) { id title year }
    }
  }
  user(id: $userId) {
    id
    ratingCount
    ratings(first: 100) {
      totalCount
      edges { node { rating ratedAt movie { id title year } } }
    }
  }
}`;

export const SEARCH_MOVIES = `query SearchMovies($search: String!, $first: Int, $after: String) {
  movies(search: $search, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${movieFields} } }
  }
}`;

export const RATE_MOVIE = `mutation RateMovie($userId: ID!, $movieId: ID!, $rating: Float!) {
  rateMovie(userId: $userId, movieId: $movieId, rating: $rating) {
    rating { rating movie { id title year } }
    user { id ratingCount }
    foldedInRatings
  }
}`;

export const SIMILAR_MOVIES = `query SimilarMovies($movieId: ID!, $limit: Int) {
  movie(id: $movieId) { ${movieFields} }
  similarMovies(movieId: $movieId, limit: $limit) {
    similarity
    movie { ${movieFields} }
  }
}`;

const modelFields = `id
    task
    family
    engine
    createdAt
    factors
    numUsers
    numMovies
    config
    metrics {
      rmse mae precisionAt10 recallAt10 ndcgAt10 coverageAt10
      popularityNdcgAt10 popularityRecallAt10 popularityCoverageAt10 heldOutInteractions
    }
    trainingRun { id epochs { epoch loss validationRmse validationMae seconds } }`;

/** The version ranking recommendations (activeModel) and every active version (one per task: rating, ranking). */
export const ACTIVE_MODEL = `query ActiveModel {
  activeModel { id }
  activeModels {
    ${modelFields}
  }
}`;

/**
 * One request that asks for several users by ID at once (aliases u0, u1, …), to suggest existing users.
 * @param {string[]} ids
 */
export function usersQuery(ids) {
  const fields = ids.map((id, i) => `u${i}: user(id: ${JSON.stringify(id)}) { id ratingCount }`).join('\n  ');
  return `query SuggestUsers {\n  ${fields}\n}`;
}
