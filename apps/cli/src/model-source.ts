import { existsSync, statSync } from 'node:fs';
import { loadRecommender, type ModelTask, type Recommender } from '@movierec/core';
import { type CliDb, withDb } from './db.ts';
import type { Context, Values } from './framework/command.ts';
import { CliError } from './framework/errors.ts';

export interface ModelSource {
  kind: 'file' | 'version';
  /** For messages: 'file model.mfm' or 'version 3'. */
  label: string;
  json: { file: string } | { version: string };
}

export interface ModelHandle {
  model: Recommender;
  source: ModelSource;
  /** The open database when the model came from it (closed after the callback). */
  db: CliDb | undefined;
}

/**
 * Runs `fn` with the model named by --model (a file, or a version ID in the database), else the database's active
 * version of the first task in `prefer` that has one. A file model needs no database.
 */
export async function withModel<T>(
  ctx: Context,
  values: Values,
  fn: (handle: ModelHandle) => Promise<T>,
  prefer: readonly ModelTask[] = ['rating', 'ranking'],
): Promise<T> {
  const given = typeof values.model === 'string' ? values.model : undefined;
  if (given !== undefined) {
    const path = ctx.resolvePath(given);
    if (existsSync(path) && statSync(path).isFile()) {
      const model = await loadRecommender(path);
      return fn({
        model,
        source: { kind: 'file', label: `file ${given}`, json: { file: path } },
        db: undefined,
      });
    }
    if (!/^\d+$/.test(given)) throw new CliError(`--model: no such model file: ${path}`);
    return withDb(ctx, async (db) => {
      const model = await db.loadVersion(given);
      return fn({
        model,
        source: { kind: 'version', label: `version ${given}`, json: { version: given } },
        db,
      });
    });
  }
  return withDb(ctx, async (db) => {
    const { id, model } = await db.loadActive(prefer);
    return fn({ model, source: { kind: 'version', label: `version ${id}`, json: { version: id } }, db });
  });
}

/** Movie titles by external ID, from the database when the model came from it (empty otherwise). */
export async function movieTitles(handle: ModelHandle): Promise<Map<string, string>> {
  return handle.db ? handle.db.movieTitles() : new Map();
}
