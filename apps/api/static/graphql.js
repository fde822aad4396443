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

/**
 * Runs one GraphQL operation and returns its `data`; throws ApiError on any failure, never returns partial data.
 * @param {string} operation the operation name, used in error messages
 * @param {string} query
 * @param {Record<string, unknown>} [variables]
 * @returns {Promise<any>}
 */
export async function request(operation, query, variables = {}) {
  let response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
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
