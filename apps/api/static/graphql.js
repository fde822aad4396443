// A minimal GraphQL client for the page: POST /graphql with fetch, and turn every failure (network, HTTP,
// non-JSON body, GraphQL `errors`) into an ApiError whose message says what failed and where, for the alert region.

/** Resolved against the page, so the page also works when the API is mounted under a path prefix. */
export const endpoint = new URL('graphql', window.location.href).toString();

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{ operation: string, status?: number, errors?: unknown[] }} details
   */
  constructor(message, details) {
    super(message);
    this.name = 'ApiError';
    this.operation = details.operation;
    this.status = details.status;
    this.errors = details.errors ?? [];
  }
}

/** @param {{ message?: unknown, path?: unknown, extensions?: { code?: unknown } }} error */
function describeGraphQLError(error) {
  const message = typeof error.message === 'string' ? error.message : JSON.stringify(error);
  const path = Array.isArray(error.path) ? ` (at ${error.path.join('.')})` : '';
  const code = typeof error.extensions?.code === 'string' ? ` [${error.extensions.code}]` : '';
  return `${message}${path}${code}`;
}

/** Demo tokens by user ID: { token, expiresAt } (ms). */
const tokens = new Map();

/**
 * Signs in as `userId` with the server's demo sign-in (POST /auth/demo: loopback servers only) and returns the bearer
 * token, reusing it until a minute before it expires. Returns null when the server has no demo sign-in (it then runs
 * without authentication, or with real tokens the page cannot get).
 * @param {string} userId
 * @returns {Promise<string | null>}
 */
export async function signIn(userId) {
  const cached = tokens.get(userId);
  if (cached && cached.expiresAt - 60_000 > Date.now()) return cached.token;
  let response;
  try {
    response = await fetch(new URL('auth/demo', window.location.href), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(`SignIn: cannot reach the API's sign-in (${reason})`, { operation: 'SignIn' });
  }
  if (response.status === 404) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok || typeof body?.token !== 'string') {
    const reason = typeof body?.error === 'string' ? `: ${body.error}` : '';
    throw new ApiError(`SignIn: signing in as ${userId} failed with HTTP ${response.status}${reason}`, {
      operation: 'SignIn',
      status: response.status,
    });
  }
  tokens.set(userId, { token: body.token, expiresAt: Date.now() + Number(body.expiresIn) * 1000 });
  return body.token;
}

/**
 * Runs one GraphQL operation and returns its `data`; throws ApiError on any failure, never returns partial data.
 * With `as`, the request carries a token for that user (signing in first): a user's recommendations, ratings and
 * rateMovie are only answered for that user.
 * @param {string} operation the operation name, used in error messages
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @param {{ as?: string }} [options]
 * @returns {Promise<any>}
 */
export async function request(operation, query, variables = {}, options = {}) {
  const token = options.as === undefined ? null : await signIn(options.as);
  let response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ operationName: operation, query, variables }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(`${operation}: cannot reach the API at ${endpoint} (${reason})`, { operation });
  }
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new ApiError(
      `${operation}: the API answered HTTP ${response.status} with a body that is not JSON: ${excerpt}`,
      {
        operation,
        status: response.status,
      },
    );
  }
  if (Array.isArray(body?.errors) && body.errors.length > 0) {
    throw new ApiError(`${operation}: ${body.errors.map(describeGraphQLError).join('; ')}`, {
      operation,
      status: response.status,
      errors: body.errors,
    });
  }
  if (!response.ok || body?.data == null) {
    throw new ApiError(`${operation}: the API answered HTTP ${response.status} without data`, {
      operation,
      status: response.status,
    });
  }
  return body.data;
}
