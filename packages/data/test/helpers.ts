import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function fixtureBytes(...parts: string[]): Buffer {
  return readFileSync(fixture(...parts));
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'movierec-data-test-'));
}
