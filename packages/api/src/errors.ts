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

/**
 * The field needs an active model of `task` and none is: says which model is missing and what is active instead
 * (code MODEL_NOT_READY, `extensions.missingTask`).
 */
export function missingModel(field: string, task: 'rating' | 'ranking', active: string): GraphQLError {
  return new GraphQLError(
    `${field} needs an active ${task} model (a model version with task '${task}'), and none is active (${active}): ` +
      `train one and activate it (see the CLI's models activate), then retry`,
    { extensions: { code: 'MODEL_NOT_READY', missingTask: task } },
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
