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
