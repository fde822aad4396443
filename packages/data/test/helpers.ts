import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { DataFormatError, type LoadOptions, loadDataset } from '../src/index.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function fixtureBytes(...parts: string[]): Buffer {
  return readFileSync(fixture(...parts));
}

const made: string[] = [];

/** A fresh temporary folder, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'movierec-data-test-'));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Writes `content` to the file `name` in `dir` (default: a fresh temporary folder) and returns its path. */
export function tempFile(name: string, content: string | Uint8Array, dir = tempDir()): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The DataFormatError that `work` must fail with (loadDataset(path, options) when given a path). */
export async function dataFormatError(
  work: string | Promise<unknown>,
  options: LoadOptions = {},
): Promise<DataFormatError> {
  const err = await (typeof work === 'string' ? loadDataset(work, options) : work).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataFormatError);
  return err as DataFormatError;
}
