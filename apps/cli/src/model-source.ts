import { existsSync, statSync } from 'node:fs';
import { loadModel, type MFModel } from '@movierec/core';
import { withDb } from './db.ts';
import type { Context, Values } from './framework/command.ts';
import { CliError } from './framework/errors.ts';

export interface ModelSource {
  kind: 'file' | 'version';
  /** For messages: 'file model.mfm' or 'version 3'. */
  label: string;
  json: { file: string } | { version: string };
  path?: string;
}

/** The model named by --model (a version ID or a file), else the database's active version. */
export async function resolveModel(
  ctx: Context,
  values: Values,
): Promise<{ model: MFModel; source: ModelSource }> {
  const given = typeof values.model === 'string' ? values.model : undefined;
  if (given !== undefined) {
    const path = ctx.resolvePath(given);
    if (existsSync(path) && statSync(path).isFile()) {
      const model = await loadModel(path);
      return { model, source: { kind: 'file', label: `file ${given}`, json: { file: path }, path } };
    }
    if (!/^[\w-]+$/.test(given)) throw new CliError(`--model: no such model file: ${path}`);
    const id = given;
    const model = await withDb(ctx, (db) => db.loadVersion(id));
    return { model, source: { kind: 'version', label: `version ${id}`, json: { version: id } } };
  }
  const { id, model } = await withDb(ctx, (db) => db.loadActive());
  return { model, source: { kind: 'version', label: `version ${id}`, json: { version: id } } };
}

/** Movie titles by external ID: from the database when the model came from it (empty otherwise). */
export async function movieTitles(ctx: Context, source: ModelSource): Promise<Map<string, string>> {
  if (source.kind !== 'version') return new Map();
  return withDb(ctx, (db) => db.movieTitles());
}
