/** GraphQL errors with the codes clients branch on (Apollo's conventions plus a few of ours). */
import { GraphQLError } from 'graphql';

/** An argument out of range or malformed; `extensions.argumentName` names it. */
export function badInput(argumentName: string, message: string): GraphQLError {
  return new GraphQLError(`${argumentName}: ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argumentName },
  });
}

/** A movie or other entity that does not exist; `extensions.argumentName` names the argument that pointed at it. */
export function notFound(argumentName: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND', argumentName } });
}

/** No model has been activated yet (or it is still loading). */
export function modelNotReady(): GraphQLError {
  return new GraphQLError(
    'no active model is loaded yet: train one and activate it (see the CLI), then retry',
    {
      extensions: { code: 'MODEL_NOT_READY' },
    },
  );
}

/** The database could not be reached; the request may be retried. */
export function databaseUnavailable(cause: unknown): GraphQLError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new GraphQLError(`database unavailable, retry later (${detail})`, {
    extensions: { code: 'DATABASE_UNAVAILABLE' },
  });
}

/** Checks an integer argument lies in lo..hi, naming it when not. */
export function checkRange(argumentName: string, value: number, lo: number, hi: number): number {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw badInput(argumentName, `must be an integer in ${lo}..${hi}, got ${value}`);
  }
  return value;
}

/** Checks a rating lies in 0.5..5 in half steps. */
export function checkRating(value: number): number {
  if (!Number.isFinite(value) || value < 0.5 || value > 5 || !Number.isInteger(value * 2)) {
    throw badInput('rating', `must be 0.5..5 in half steps (0.5, 1, 1.5 … 5), got ${value}`);
  }
  return value;
}

/** Checks an ID argument is a non-empty string of reasonable length. */
export function checkId(argumentName: string, value: string): string {
  if (value.length === 0 || value.length > 128 || value.trim() !== value) {
    throw badInput(argumentName, `must be a non-empty ID without surrounding spaces (≤ 128 characters)`);
  }
  return value;
}

/** An ISO-8601 date-time argument → Unix seconds; unparsable, longer than 40 characters or before 1970 is refused. */
export function checkTime(argumentName: string, value: string): number {
  const ms = value.length <= 40 ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw badInput(
      argumentName,
      `must be an ISO-8601 date-time such as "2015-06-01T12:00:00Z", got ${JSON.stringify(value.slice(0, 40))}`,
    );
  if (ms < 0)
    throw badInput(argumentName, `must be at or after 1970-01-01T00:00:00Z, got ${JSON.stringify(value)}`);
  return ms / 1000;
}
