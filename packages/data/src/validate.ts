/**
 * The one validation of external IDs and rating values, shared by the file readers, the database import, the API
 * and the CLI, so that what one path accepts the others accept too.
 */

/** Longest external ID accepted anywhere (characters, i.e. UTF-16 code units). */
export const MAX_ID_LENGTH = 128;

/** Bad input (an ID or a rating) refused before it reaches a model or a database; `where` says whose it was. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  /** Where the value came from: "ratings.csv:3", "argument userId", "field rating". */
  readonly where: string;
  /** What is wrong with it, without the place ("contains the control character U+0000"). */
  readonly reason: string;
  constructor(where: string, reason: string) {
    super(`${where}: ${reason}`);
    this.where = where;
    this.reason = reason;
  }
}

/**
 * Why `value` is not a usable external ID, or undefined when it is one. Refused: empty, longer than MAX_ID_LENGTH,
 * surrounding spaces, not well-formed Unicode (a lone surrogate such as "\ud800": PostgreSQL would store it as
 * U+FFFD, merging two IDs into one), and control characters (C0, DEL, C1 — NUL included: PostgreSQL rejects it).
 */
export function idProblem(value: string): string | undefined {
  const n = value.length;
  if (n === 0) return 'an ID must not be empty';
  if (n > MAX_ID_LENGTH) return `an ID must be at most ${MAX_ID_LENGTH} characters, got ${n}`;
  for (let k = 0; k < n; k++) {
    const c = value.charCodeAt(k);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return `an ID must not contain control characters, found U+${hex(c)} at position ${k}`;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(k + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        k++;
        continue;
      }
      return `an ID must be well-formed Unicode, found a lone surrogate U+${hex(c)} at position ${k}`;
    }
  }
  if (value.trim() !== value) return 'an ID must not start or end with spaces';
  return undefined;
}

/** Returns `value` when it is a usable external ID (see idProblem), else throws InvalidInputError naming `where`. */
export function checkId(value: string, where: string): string {
  const problem = typeof value === 'string' ? idProblem(value) : 'an ID must be a string';
  if (problem !== undefined) throw new InvalidInputError(where, problem);
  return value;
}

/** The values a rating may take: min ≤ r ≤ max and, when step > 0, r = min + k·step for an integer k. */
export interface RatingScale {
  readonly min: number;
  readonly max: number;
  /** 0: any value in [min, max]. */
  readonly step: number;
}

/** MovieLens ml-latest(-small), ml-10m, ml-20m, ml-25m, ml-32m: half stars 0.5–5. Also what the API accepts. */
export const HALF_STAR_SCALE: RatingScale = Object.freeze({ min: 0.5, max: 5, step: 0.5 });
/** MovieLens ml-100k and ml-1m: whole stars 1–5. */
export const WHOLE_STAR_SCALE: RatingScale = Object.freeze({ min: 1, max: 5, step: 1 });
/** The scale assumed when a dataset does not say (the API's: every MovieLens rating fits it). */
export const DEFAULT_RATING_SCALE = HALF_STAR_SCALE;

/** "0.5–5 in steps of 0.5" / "1–10". */
export function describeScale(scale: RatingScale): string {
  return `${scale.min}–${scale.max}${scale.step > 0 ? ` in steps of ${scale.step}` : ''}`;
}

/** Checks a scale is usable (finite, min ≤ max, step ≥ 0 and dividing max − min); throws a RangeError naming it. */
export function checkScale(scale: RatingScale, where = 'scale'): RatingScale {
  const { min, max, step } = scale;
  const ok =
    Number.isFinite(min) &&
    Number.isFinite(max) &&
    Number.isFinite(step) &&
    min <= max &&
    step >= 0 &&
    (step === 0 || onGrid(max, min, step));
  if (!ok) {
    throw new RangeError(
      `${where}: expected { min ≤ max, step ≥ 0 dividing max − min }, got ${JSON.stringify(scale)}`,
    );
  }
  return scale;
}

/** True when (value − min) / step is an integer, to a tolerance that absorbs float32 and decimal rounding. */
export function onGrid(value: number, min: number, step: number): boolean {
  const k = (value - min) / step;
  return Math.abs(k - Math.round(k)) <= 1e-6;
}

/** Why `value` is not a rating on `scale`, or undefined when it is one. */
export function ratingProblem(value: number, scale: RatingScale = DEFAULT_RATING_SCALE): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value))
    return `a rating must be a finite number, got ${value}`;
  if (value < scale.min || value > scale.max) {
    return `rating ${value} is outside ${scale.min}–${scale.max} (scale ${describeScale(scale)})`;
  }
  if (scale.step > 0 && !onGrid(value, scale.min, scale.step)) {
    return `rating ${value} is not on the scale ${describeScale(scale)}`;
  }
  return undefined;
}

/** Returns `value` when it is a rating on `scale`, else throws InvalidInputError naming `where`. */
export function checkRating(value: number, scale: RatingScale, where: string): number {
  const problem = ratingProblem(value, scale);
  if (problem !== undefined) throw new InvalidInputError(where, problem);
  return value;
}

function hex(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}
