import type { MFModel } from '@movierec/core';
import type { Context } from './framework/command.ts';
import { CliError } from './framework/errors.ts';

/** What the CLI needs from the database (a thin facade over @movierec/db). */
export interface CliDb {
  loadVersion(id: string): Promise<MFModel>;
  loadActive(): Promise<{ id: string; model: MFModel }>;
  movieTitles(): Promise<Map<string, string>>;
}

/** Opens the database named by DATABASE_URL, else the embedded one in MOVIEREC_DATA_DIR; closes it afterwards. */
export async function withDb<T>(_ctx: Context, _fn: (db: CliDb) => Promise<T>): Promise<T> {
  throw new CliError('the database package is not wired into the CLI yet');
}
