// The page's behaviour: choose or create a user, show recommendations, search and rate movies (the API folds the
// user in on every rating and the recommendations refresh), similar movies, and the active model with its curve.
// Every API failure lands in the alert region (#alerts); nothing is swallowed.

import { trainingCurve } from './chart.js';
import { byId, h, replaceChildren } from './dom.js';
import { ApiError, request, signIn } from './graphql.js';
import {
  ACTIVE_MODEL,
  RATE_MOVIE,
  RECOMMENDATIONS,
  SEARCH_MOVIES,
  SIMILAR_MOVIES,
  usersQuery,
} from './queries.js';

const RECOMMENDATION_COUNT = 10;
const SEARCH_PAGE_SIZE = 10;
const SIMILAR_COUNT = 8;
/** MovieLens users 1…N exist in every bundled dataset; the first few are offered as suggestions. */
const SUGGESTED_USER_IDS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'];
const REMEMBERED_USERS_KEY = 'movierec.webUsers';
/** Whose recommendations show before a user is chosen: nobody rates as this ID, so it gets the popularity list. */
const PREVIEW_USER_ID = 'web-preview';
/** Half-star scale of MovieLens ratings. */
const RATING_STEPS = [5, 4.5, 4, 3.5, 3, 2.5, 2, 1.5, 1, 0.5];

const state = {
  /** @type {string | null} */
  userId: null,
  /** movie id → the user's rating, as the API last reported it */
  ratings: new Map(),
  /** movie ids of the recommendations shown, in rank order */
  recommendedIds: /** @type {string[]} */ ([]),
  /** @type {string | null} */
  shownModelId: null,
  /** whether the model panel has been drawn once */
  modelShown: false,
  search: { query: '', after: /** @type {string | null} */ (null) },
  recommendationLoads: 0,
};

// ---------------------------------------------------------------- formatting

/** @param {number} rating a rating on the 0.5…5 scale */
function stars(rating) {
  const full = Math.floor(rating);
  const half = rating - full >= 0.5;
  return `${'★'.repeat(full)}${half ? '½' : ''}`;
}

/** MovieLens files the article last ("Matrix, The"); the page reads it first ("The Matrix"). */
const TRAILING_ARTICLE = /^(.*), (The|A|An)( \(.*\))?$/;

/** @param {{ title: string, year?: number | null }} movie */
function titleWithYear(movie) {
  const title = movie.title.replace(TRAILING_ARTICLE, '$2 $1$3');
  return movie.year && !title.includes(`(${movie.year})`) ? `${title} (${movie.year})` : title;
}

/** @param {number | null | undefined} value @param {number} digits */
function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/**
 * @param {string} value an ISO date, or seconds/milliseconds since the epoch
 * @param {boolean} [withTime]
 */
function formatDate(value, withTime = false) {
  const numeric = Number(value);
  const date = Number.isFinite(numeric)
    ? new Date(numeric < 1e11 ? numeric * 1000 : numeric)
    : new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(
    undefined,
    withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' },
  );
}

/** @param {number} count @param {string} one @param {string} [many] */
function plural(count, one, many = `${one}s`) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

// ---------------------------------------------------------------- alerts

/**
 * Shows an error in the alert region (role="alert" is announced by screen readers) and keeps the latest five.
 * @param {unknown} error
 */
function showError(error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(error);
  const alerts = byId('alerts');
  const alert = h(
    'div',
    { class: 'alert', role: 'alert', dataset: { kind: error instanceof ApiError ? 'api' : 'page' } },
    h(
      'p',
      null,
      h('strong', null, error instanceof ApiError ? 'The API reported an error: ' : 'Something went wrong: '),
      message,
    ),
    h('button', { type: 'button', class: 'dismiss', onclick: () => alert.remove() }, 'Dismiss'),
  );
  alerts.append(alert);
  while (alerts.children.length > 5) alerts.firstElementChild?.remove();
}

/**
 * Runs an async UI action, marking `busy` (a section) while it runs and routing any error to the alert region.
 * @template T
 * @param {() => Promise<T>} action
 * @param {HTMLElement} [busy]
 * @returns {Promise<T | undefined>}
 */
async function guarded(action, busy) {
  busy?.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  } finally {
    busy?.setAttribute('aria-busy', 'false');
  }
}

// ---------------------------------------------------------------- users

function rememberedUsers() {
  try {
    const value = JSON.parse(localStorage.getItem(REMEMBERED_USERS_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((id) => typeof id === 'string') : [];
  } catch {
    return []; // storage disabled or corrupt: suggestions just omit the users made here
  }
}

/** @param {string} userId */
function rememberUser(userId) {
  const users = [userId, ...rememberedUsers().filter((id) => id !== userId)].slice(0, 10);
  try {
    localStorage.setItem(REMEMBERED_USERS_KEY, JSON.stringify(users));
  } catch {
    // storage disabled: the user still works, it is only not suggested next time
  }
}

function newUserId() {
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

async function suggestUsers() {
  const ids = [...new Set([...rememberedUsers(), ...SUGGESTED_USER_IDS])];
  const data = await request('SuggestUsers', usersQuery(ids));
  const options = ids
    .map((_id, i) => data[`u${i}`])
    .filter((user) => user)
    .map((user) => h('option', { value: user.id }, `${user.id} — ${plural(user.ratingCount, 'rating')}`));
  replaceChildren(byId('user-suggestions'), options);
}

/**
 * @param {string} userId
 * @param {{ isNew?: boolean }} [options]
 */
async function chooseUser(userId, { isNew = false } = {}) {
  state.userId = userId;
  state.ratings = new Map();
  state.recommendedIds = [];
  /** @type {HTMLInputElement} */ (byId('user-id')).value = userId;
  const hash = `#user=${encodeURIComponent(userId)}`;
  if (window.location.hash !== hash) history.replaceState(null, '', hash);
  // a user's recommendations, ratings and rateMovie need a token for that user: the demo sign-in gives one
  const token = await signIn(userId);
  byId('auth-status').textContent = token
    ? `Signed in as ${userId} (demo sign-in: a one-hour token for this browser tab).`
    : 'This server does not ask who you are (authentication is off).';
  if (isNew) {
    rememberUser(userId);
    byId('user-status').textContent =
      `You are the new user ${userId}. Until you rate something the model does not know you: rate a few movies below.`;
  }
  await loadRecommendations({ announceUser: !isNew });
}

// ---------------------------------------------------------------- movie cards

/**
 * A rating control: a labelled select of half stars and a Rate button (native controls: keyboard and screen reader
 * friendly).
 * @param {{ id: string, title: string, year?: number | null }} movie
 */
function ratingForm(movie) {
  const selectId = `rate-${movie.id}-${Math.random().toString(36).slice(2, 8)}`;
  const current = state.ratings.get(movie.id);
  const select = h(
    'select',
    { id: selectId, name: 'rating', required: true },
    h('option', { value: '' }, 'Rating…'),
    RATING_STEPS.map((step) =>
      h('option', { value: String(step), selected: step === current }, `${step.toFixed(1)} ${stars(step)}`),
    ),
  );
  const form = h(
    'form',
    {
      class: 'rating-form',
      onsubmit: (event) => {
        event.preventDefault();
        const value = /** @type {HTMLSelectElement} */ (select).value;
        if (value === '') {
          select.focus();
          return;
        }
        void guarded(() => rate(movie, Number(value), form), byId('recommendations'));
      },
    },
    h('label', { for: selectId, class: 'visually-hidden' }, `Your rating for ${titleWithYear(movie)}`),
    select,
    h(
      'button',
      {
        type: 'submit',
        'aria-label': `${current === undefined ? 'Rate' : 'Re-rate'} ${titleWithYear(movie)}`,
      },
      current === undefined ? 'Rate' : 'Re-rate',
    ),
  );
  return form;
}

/**
 * @param {{ id: string, title: string, year?: number | null, genres: string[], ratingCount: number, averageRating?: number | null }} movie
 * @param {{ tag?: string, lead?: any, details?: any[] }} [options]
 */
function movieCard(movie, { tag = 'li', lead, details = [] } = {}) {
  const yourRating = state.ratings.get(movie.id);
  return h(
    tag,
    { class: 'movie', dataset: { movieId: movie.id } },
    lead,
    h(
      'div',
      { class: 'movie-body' },
      h('h3', { class: 'movie-title' }, titleWithYear(movie)),
      h(
        'p',
        { class: 'movie-meta' },
        movie.genres.length > 0 ? movie.genres.join(' · ') : 'no genres listed',
        ' — ',
        movie.averageRating == null
          ? 'no ratings yet'
          : `average ${fixed(movie.averageRating, 1)} from ${plural(movie.ratingCount, 'rating')}`,
      ),
      details,
      yourRating === undefined
        ? null
        : h('p', { class: 'your-rating' }, `You rated it ${yourRating.toFixed(1)} ${stars(yourRating)}`),
      h(
        'div',
        { class: 'movie-actions' },
        ratingForm(movie),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            'aria-label': `Similar to ${titleWithYear(movie)}`,
            onclick: () => void guarded(() => showSimilar(movie.id), byId('similar')),
          },
          'Similar',
        ),
      ),
    ),
  );
}

// ---------------------------------------------------------------- recommendations

/** @param {{ announceUser?: boolean }} [options] */
async function loadRecommendations({ announceUser = true } = {}) {
  const preview = state.userId === null;
  const userId = state.userId ?? PREVIEW_USER_ID;
  const status = byId('recs-status');
  status.textContent = preview ? 'Loading popular movies…' : `Loading recommendations for ${userId}…`;
  const data = await request(
    'Recommendations',
    RECOMMENDATIONS,
    { userId, limit: RECOMMENDATION_COUNT },
    { as: userId },
  );
  if ((state.userId ?? PREVIEW_USER_ID) !== userId) return; // the user was switched while this was in flight
  const { recommendations, user } = data;

  if (!preview) {
    state.ratings = new Map(
      (user?.ratings.edges ?? []).map((edge) => [edge.node.movie.id, edge.node.rating]),
    );
    renderRatings(user);
  }
  if (announceUser && !preview) {
    byId('user-status').textContent = user
      ? `Showing user ${user.id}, who has ${plural(user.ratingCount, 'rating')}.`
      : `User ${userId} has no ratings yet: rate a few movies below to get personal recommendations.`;
  }

  const personal = recommendations.source === 'PERSONALIZED';
  const badge = byId('recs-source');
  badge.hidden = false;
  badge.textContent = personal ? 'personalised' : preview ? 'popular' : 'popular (fallback)';
  badge.className = `badge ${personal ? 'personal' : 'fallback'}`;
  badge.title = personal
    ? 'Scored with this user’s learned or folded-in factors'
    : 'The model does not know this user yet, so these are the most popular movies';

  const items = recommendations.items;
  replaceChildren(
    byId('recs-list'),
    items.map((item) =>
      movieCard(item.movie, {
        lead: h(
          'div',
          { class: 'score', title: 'Predicted rating' },
          h('span', { class: 'rank', 'aria-hidden': 'true' }, `#${item.rank}`),
          h('span', { class: 'score-value' }, fixed(item.score, 1)),
          h('span', { class: 'visually-hidden' }, ` predicted rating out of 5 (rank ${item.rank})`),
          h('span', { class: 'score-star', 'aria-hidden': 'true' }, '★'),
        ),
        details: [
          item.because.length > 0
            ? h(
                'p',
                { class: 'because' },
                'Because you rated ',
                item.because.map(titleWithYear).join(', '),
                '.',
              )
            : h(
                'p',
                { class: 'because' },
                personal ? 'From your taste profile.' : 'Popular with many raters.',
              ),
        ],
      }),
    ),
  );
  const previous = state.recommendedIds;
  state.recommendedIds = items.map((item) => item.movie.id);
  const changed = previous.length > 0 && previous.join() !== state.recommendedIds.join();
  status.textContent = preview
    ? 'Popular with everyone. Choose a user above, or rate any movie to start as a new user.'
    : items.length === 0
      ? `No recommendations for ${userId}: the user may have rated every movie the model knows.`
      : `Top ${items.length} for ${userId}${personal ? '' : ' (the model does not know this user yet, so: most popular)'}` +
        `${changed ? ' — updated after your rating.' : '.'}`;
  state.recommendationLoads += 1;
  byId('recommendations').dataset.loads = String(state.recommendationLoads);

  // A retrained model was activated since the model panel was drawn: redraw it.
  const modelId = recommendations.modelVersion?.id ?? null;
  if (state.modelShown && modelId !== state.shownModelId) void guarded(loadModel, byId('model'));
}

/** @param {any} user */
function renderRatings(user) {
  const status = byId('ratings-status');
  const list = byId('ratings-list');
  if (!user || user.ratings.edges.length === 0) {
    status.textContent = `${state.userId} has not rated anything yet.`;
    replaceChildren(list);
    return;
  }
  const shown = user.ratings.edges.length;
  status.textContent =
    shown < user.ratings.totalCount
      ? `${plural(user.ratings.totalCount, 'rating')}; the first ${shown} are listed.`
      : `${plural(user.ratings.totalCount, 'rating')}.`;
  replaceChildren(
    list,
    user.ratings.edges.map(({ node }) =>
      h(
        'li',
        { dataset: { movieId: node.movie.id } },
        h(
          'span',
          { class: 'rating-stars', 'aria-label': `${node.rating} out of 5` },
          `${node.rating.toFixed(1)} ${stars(node.rating)}`,
        ),
        ' ',
        h('span', { class: 'rating-title' }, titleWithYear(node.movie)),
        h('span', { class: 'rating-date' }, formatDate(node.ratedAt)),
      ),
    ),
  );
}

/**
 * @param {{ id: string, title: string, year?: number | null }} movie
 * @param {number} rating
 * @param {HTMLElement} form
 */
async function rate(movie, rating, form) {
  const buttons = form.querySelectorAll('button, select');
  const hadFocus = form.contains(document.activeElement);
  for (const control of buttons) /** @type {HTMLButtonElement} */ (control).disabled = true;
  try {
    if (!state.userId) await chooseUser(newUserId(), { isNew: true });
    const userId = /** @type {string} */ (state.userId);
    const data = await request(
      'RateMovie',
      RATE_MOVIE,
      { userId, movieId: movie.id, rating },
      { as: userId },
    );
    const payload = data.rateMovie;
    state.ratings.set(movie.id, payload.rating.rating);
    byId('user-status').textContent =
      `${userId} rated ${titleWithYear(payload.rating.movie)} ${payload.rating.rating.toFixed(1)} ${stars(payload.rating.rating)}; ` +
      `the model folded the user in from ${plural(payload.foldedInRatings, 'rating')}.`;
    markRatedInSearch(movie.id);
    await loadRecommendations({ announceUser: false });
    void guarded(suggestUsers); // the user now exists: offer it next time
  } finally {
    for (const control of buttons) /** @type {HTMLButtonElement} */ (control).disabled = false;
    if (hadFocus) restoreFocus(form, movie.id);
  }
}

/**
 * Keyboard users keep their place: the lists are redrawn after a rating, so focus goes back to the same movie's
 * rate button wherever it is now (the search results first), else to the recommendations heading.
 * @param {HTMLElement} form
 * @param {string} movieId
 */
function restoreFocus(form, movieId) {
  const selector = `li[data-movie-id="${CSS.escape(movieId)}"] .rating-form button`;
  const target = form.isConnected
    ? form.querySelector('button')
    : (byId('search-results').querySelector(selector) ?? byId('recs-list').querySelector(selector));
  (target ?? byId('recommendations-heading')).focus();
}

/** @param {string} movieId */
function markRatedInSearch(movieId) {
  for (const item of byId('search-results').querySelectorAll(`li[data-movie-id="${CSS.escape(movieId)}"]`)) {
    const movie = searchMovies.get(movieId);
    if (movie) item.replaceWith(movieCard(movie));
  }
}

// ---------------------------------------------------------------- search

/** movies shown in the search results, by id, to redraw a card after rating */
const searchMovies = new Map();

/** @param {boolean} more */
async function search(more) {
  const { query } = state.search;
  const status = byId('search-status');
  const results = byId('search-results');
  const moreButton = byId('search-more');
  status.textContent = `Searching for “${query}”…`;
  const data = await request('SearchMovies', SEARCH_MOVIES, {
    search: query,
    first: SEARCH_PAGE_SIZE,
    after: more ? state.search.after : null,
  });
  const { edges, totalCount, pageInfo } = data.movies;
  if (!more) {
    replaceChildren(results);
    searchMovies.clear();
  }
  for (const { node } of edges) {
    searchMovies.set(node.id, node);
    results.append(movieCard(node));
  }
  state.search.after = pageInfo.endCursor ?? null;
  moreButton.hidden = !pageInfo.hasNextPage;
  status.textContent =
    totalCount === 0
      ? `No movie title contains “${query}”.`
      : `${plural(totalCount, 'movie')} ${totalCount === 1 ? 'matches' : 'match'} “${query}”; showing ${results.children.length}.`;
}

// ---------------------------------------------------------------- similar movies

/** @param {string} movieId */
async function showSimilar(movieId) {
  const status = byId('similar-status');
  const heading = byId('similar-heading');
  byId('similar').hidden = false;
  status.textContent = 'Looking for similar movies…';
  const data = await request('SimilarMovies', SIMILAR_MOVIES, { movieId, limit: SIMILAR_COUNT });
  const title = data.movie ? titleWithYear(data.movie) : `movie ${movieId}`;
  heading.textContent = `Similar to ${title}`;
  status.textContent =
    data.similarMovies.length === 0
      ? `No active model knows ${title} well enough to find similar movies.`
      : `The ${data.similarMovies.length} movies the model finds closest to ${title} (its own similarity score).`;
  replaceChildren(
    byId('similar-list'),
    data.similarMovies.map((entry) =>
      movieCard(entry.movie, {
        lead: h(
          'div',
          { class: 'score similarity', title: "The model's similarity: higher is closer" },
          h('span', { class: 'score-value' }, fixed(entry.similarity, 2)),
          h('span', { class: 'visually-hidden' }, ' similarity'),
        ),
      }),
    ),
  );
  heading.focus();
}

// ---------------------------------------------------------------- model

async function loadModel() {
  const status = byId('model-status');
  const data = await request('ActiveModel', ACTIVE_MODEL);
  /** @type {any[]} */
  const active = data.activeModels ?? [];
  // the panel's facts, curve and holdout figures are the rating model's; the ranking model's figures go beside
  // popularity's in their own table (showRankingModel)
  const model = active.find((v) => v.task === 'RATING') ?? active[0] ?? null;
  state.modelShown = true;
  showRankingModel(active.find((v) => v.task === 'RANKING') ?? null);
  const facts = byId('model-facts');
  const metrics = byId('model-metrics');
  const figure = byId('model-chart');
  const epochsTable = byId('model-epochs');
  const configDetails = byId('model-config');
  if (!model) {
    state.shownModelId = null;
    showRankingModel(null);
    status.textContent =
      'No model is active yet: train one (pnpm start) and reload. Recommendations fall back to popularity.';
    for (const element of [facts, metrics, figure, epochsTable, configDetails, byId('metrics-heading')])
      element.hidden = true;
    return;
  }
  // recommendations name the version that ranked them (activeModel): the panel is redrawn when it changes
  state.shownModelId = data.activeModel?.id ?? model.id;
  status.textContent = `Version ${model.id}, trained ${formatDate(model.createdAt, true)} with the ${model.engine} engine.`;

  /** @param {HTMLElement} list @param {[string, string][]} rows */
  const fillFacts = (list, rows) =>
    replaceChildren(
      list,
      rows.map(([term, value]) => h('div', null, h('dt', null, term), h('dd', null, value))),
    );
  fillFacts(facts, [
    ['version', model.id],
    ['engine', model.engine],
    ['factors', String(model.factors)],
    ['users', model.numUsers.toLocaleString()],
    ['movies', model.numMovies.toLocaleString()],
  ]);
  facts.hidden = false;

  // Only the figures the evaluation recorded (a model saved without ranking metrics shows just RMSE/MAE).
  const m = model.metrics ?? {};
  /** @type {[string, string][]} */
  const figures = [
    ['RMSE', m.rmse],
    ['MAE', m.mae],
    ['Precision@10', m.precisionAt10],
    ['Recall@10', m.recallAt10],
    ['NDCG@10', m.ndcgAt10],
  ]
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [name, fixed(value, 4)]);
  byId('metrics-heading').hidden = figures.length === 0;
  metrics.hidden = figures.length === 0;
  fillFacts(metrics, figures);

  const epochs = model.trainingRun?.epochs ?? [];
  figure.hidden = epochs.length === 0;
  epochsTable.hidden = epochs.length === 0;
  if (epochs.length > 0) {
    replaceChildren(byId('chart-container'), trainingCurve(epochs, { id: `curve-${model.id}` }));
    replaceChildren(
      byId('epochs-body'),
      epochs.map((e) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, String(e.epoch)),
          h('td', null, fixed(e.loss, 4)),
          h('td', null, fixed(e.validationRmse, 4)),
          h('td', null, fixed(e.validationMae, 4)),
          h('td', null, fixed(e.seconds, 2)),
        ),
      ),
    );
  } else {
    status.textContent += ' Its training run recorded no epochs.';
  }

  configDetails.hidden = false;
  let config = model.config;
  try {
    config = JSON.stringify(JSON.parse(model.config), null, 2);
  } catch {
    // not JSON after all: show it as the API sent it
  }
  byId('model-config-json').textContent = config;
}

/**
 * The recommendation (ranking) model's figures beside the popularity baseline's on the same split (each user's
 * latest 20% of ratings held out), as stored with the version; hidden when no ranking model is active.
 * @param {any} ranking the active ranking version, or null
 */
function showRankingModel(ranking) {
  const section = byId('ranking-model');
  if (!ranking) {
    section.hidden = true;
    return;
  }
  const m = ranking.metrics ?? {};
  const rows = [
    ['NDCG@10', m.ndcgAt10, m.popularityNdcgAt10],
    ['Recall@10', m.recallAt10, m.popularityRecallAt10],
    ['Coverage@10', m.coverageAt10, m.popularityCoverageAt10],
  ].filter(([, own]) => typeof own === 'number');
  byId('ranking-status').textContent =
    `Version ${ranking.id} (${ranking.family}) ranks the recommendations.` +
    (rows.length === 0
      ? ' It was saved without an evaluation.'
      : ` Evaluated on each user's latest 20% of ratings` +
        (typeof m.heldOutInteractions === 'number'
          ? ` (${m.heldOutInteractions.toLocaleString()} held out)`
          : '') +
        ', beside the most-popular list on the same split:');
  const table = byId('ranking-metrics');
  table.hidden = rows.length === 0;
  replaceChildren(
    byId('ranking-metrics-body'),
    rows.map(([name, own, popularity]) =>
      h(
        'tr',
        { 'data-metric': name },
        h('th', { scope: 'row' }, name),
        h('td', { class: 'model-value' }, fixed(own, 4)),
        h('td', { class: 'popularity-value' }, typeof popularity === 'number' ? fixed(popularity, 4) : '—'),
        h(
          'td',
          { class: 'ratio' },
          typeof popularity === 'number' && popularity > 0 ? `${(own / popularity).toFixed(2)}×` : '—',
        ),
      ),
    ),
  );
  section.hidden = false;
}

// ---------------------------------------------------------------- wiring

function userFromHash() {
  const match = /^#user=(.+)$/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function start() {
  const userInput = /** @type {HTMLInputElement} */ (byId('user-id'));
  byId('user-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const userId = userInput.value.trim();
    if (userId === '') {
      userInput.focus();
      return;
    }
    void guarded(() => chooseUser(userId), byId('recommendations'));
  });
  byId('new-user').addEventListener('click', () => {
    void guarded(() => chooseUser(newUserId(), { isNew: true }), byId('recommendations'));
  });
  const searchInput = /** @type {HTMLInputElement} */ (byId('search-input'));
  byId('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const query = searchInput.value.trim();
    if (query === '') return;
    state.search = { query, after: null };
    void guarded(() => search(false), byId('search-results'));
  });
  byId('search-more').addEventListener(
    'click',
    () => void guarded(() => search(true), byId('search-results')),
  );
  window.addEventListener('hashchange', () => {
    const userId = userFromHash();
    if (userId && userId !== state.userId) void guarded(() => chooseUser(userId), byId('recommendations'));
  });
  // Errors outside an action (a bug in this page) are shown too, not only logged.
  window.addEventListener('error', (event) => showError(event.error ?? event.message));
  window.addEventListener('unhandledrejection', (event) => showError(event.reason));

  void guarded(loadModel, byId('model'));
  void guarded(suggestUsers);
  const initialUser = userFromHash();
  void guarded(
    initialUser ? () => chooseUser(initialUser) : () => loadRecommendations(),
    byId('recommendations'),
  );
  document.documentElement.dataset.ready = 'true';
}

start();
