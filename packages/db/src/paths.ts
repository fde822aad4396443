import { fileURLToPath } from 'node:url';

/** The repository root, found from this file (packages/db/src → ../../..), so nothing depends on the cwd. */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Prisma's standard migration folders: prisma/migrations/<timestamp>_<name>/migration.sql. */
export const migrationsDir: string = fileURLToPath(new URL('../../../prisma/migrations/', import.meta.url));

/** Where the embedded database lives unless `dataDir` says otherwise: <repo>/.data/pglite (gitignored). */
export const defaultPgliteDir: string = fileURLToPath(new URL('../../../.data/pglite', import.meta.url));
