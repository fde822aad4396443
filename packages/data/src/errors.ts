/**
 * A rating or metadata file that cannot be read as its format says. Names the file, the 1-based line (0 for a
 * problem with the file as a whole, e.g. an empty file) and the offending text, so the user can open the file there.
 */
export class DataFormatError extends Error {
  override readonly name = 'DataFormatError';
  /** File (or archive entry, "archive.zip/ratings.csv") as given by the caller. */
  readonly file: string;
  /** 1-based line number; 0 when the problem is with the whole file. */
  readonly line: number;
  /** The offending line (truncated to 200 characters); '' for file-level problems. */
  readonly text: string;
  /** Short machine-readable reason, the same key `onBadRow: 'skip'` counts under in report.skipped. */
  readonly reason: string;

  constructor(file: string, line: number, text: string, reason: string, detail?: string) {
    const where = line > 0 ? `${file}:${line}` : file;
    const what = detail ? `${reason}: ${detail}` : reason;
    super(text ? `${where}: ${what} in ${JSON.stringify(text)}` : `${where}: ${what}`);
    this.file = file;
    this.line = line;
    this.text = text;
    this.reason = reason;
  }
}

/** Thrown by `download` when the GroupLens host cannot be reached. */
export class NetworkUnreachableError extends Error {
  override readonly name = 'NetworkUnreachableError';
}
