/** GraphQL errors with the codes clients branch on (Apollo's conventions plus a few of ours). */
import { DEFAULT_RATING_SCALE, describeScale, idProblem, ratingProblem } from '@movierec/data';
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
      `train one with \`movierec train${task === 'ranking' ? ' --task ranking' : ''} --activate\` ` +
      `(or activate a stored ${task} version with \`movierec models activate <id>\`), then retry`,
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

/**
 * Checks a rating lies on the scale the import enforces (@movierec/data DEFAULT_RATING_SCALE: 0.5..5 in half
 * steps), with the same rule the readers and the import apply.
 */
export function checkRating(value: number): number {
  const problem = ratingProblem(value, DEFAULT_RATING_SCALE);
  if (problem !== undefined) {
    throw badInput('rating', `must be ${describeScale(DEFAULT_RATING_SCALE)}: ${problem}`);
  }
  return value;
}

/** Largest weight one recordView may add (a view's plays, minutes or purchases), so sums stay finite in float32. */
export const MAX_VIEW_WEIGHT = 1_000_000;

/** Checks a view's weight: a finite number > 0 and ≤ MAX_VIEW_WEIGHT (the readers' rule, with a ceiling). */
export function checkWeight(argumentName: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_VIEW_WEIGHT))
    throw badInput(
      argumentName,
      `must be a number > 0 and ≤ ${MAX_VIEW_WEIGHT} (a view's weight: 1 per view, or plays, minutes), got ${value}`,
    );
  return value;
}

/**
 * Checks an ID argument by the rule the import applies (@movierec/data idProblem): non-empty, ≤ 128 characters, no
 * surrounding spaces, well-formed Unicode (no lone surrogates), no control characters (NUL included).
 */
export function checkId(argumentName: string, value: string): string {
  const problem = idProblem(value);
  if (problem !== undefined) throw badInput(argumentName, problem);
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
