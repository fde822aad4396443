/** A user the model does not know: an external ID missing from its IdMap, or a dense index out of range. */
export class UnknownUserError extends Error {
  override readonly name = 'UnknownUserError';
  constructor(readonly user: string | number) {
    super(
      `unknown user ${JSON.stringify(user)}: the model was not trained on this user (use foldIn for new users)`,
    );
  }
}

/** A movie the model does not know: an external ID missing from its IdMap, or a dense index out of range. */
export class UnknownItemError extends Error {
  override readonly name = 'UnknownItemError';
  constructor(readonly item: string | number) {
    super(`unknown item ${JSON.stringify(item)}: the model has no factors for this movie`);
  }
}

/** A model artifact that cannot be read: wrong magic, another format version, or shapes that disagree. */
export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
}

/** Throws UnknownUserError unless `user` is a dense index in 0…numUsers − 1. */
export function checkUserIndex(user: number, numUsers: number): void {
  if (!(Number.isInteger(user) && user >= 0 && user < numUsers)) throw new UnknownUserError(user);
}

/** Throws UnknownItemError unless `item` is a dense index in 0…numItems − 1. */
export function checkItemIndex(item: number, numItems: number): void {
  if (!(Number.isInteger(item) && item >= 0 && item < numItems)) throw new UnknownItemError(item);
}
