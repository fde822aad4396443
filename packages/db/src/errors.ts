/**
 * Errors meant for people: one line saying what was wrong, where, and what to do. Their `stack` is that one line
 * too, so a CLI or a server log that prints the error shows no stack trace.
 */
export class DatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.stack = `${this.name}: ${message}`;
  }
}

/** DATABASE_URL (or `url`) is malformed, or the server cannot be reached / refuses the database. */
export class DatabaseConnectionError extends DatabaseError {}

/** The database lacks migrations that prisma/migrations holds. */
export class SchemaBehindError extends DatabaseError {}

/** The migration history in the database disagrees with prisma/migrations (edited, failed or unknown migration). */
export class MigrationError extends DatabaseError {}

/** A model version id that does not exist. */
export class ModelVersionNotFoundError extends DatabaseError {}

/** Bad input to importDataset (names the row and field), or an import that failed and was rolled back. */
export class ImportError extends DatabaseError {}
