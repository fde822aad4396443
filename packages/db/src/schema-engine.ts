// Prisma's schema engine as WebAssembly (@prisma/schema-engine-wasm, a devDependency), driven offline through a
// PGlite driver adapter: the Prisma CLI cannot download its native engine here (../shared/TOOLCHAIN.md).
// Development-only: the schema-agreement test and `create-migration` use it; the runtime never loads it.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { migrationsDir, repoRoot } from './paths.ts';

export const schemaPath: string = path.join(repoRoot, 'prisma', 'schema.prisma');

let ready: Promise<void> | undefined;

/** Instantiates the engine's WASM module once per process (its ESM entry imports .wasm, which Node cannot). */
function loadWasm(): Promise<void> {
  ready ??= (async () => {
    const require = createRequire(import.meta.url);
    const wasmFile = path.join(
      path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
      'schema_engine_bg.wasm',
    );
    // The WebAssembly global is not in this project's TypeScript libs (ES2023, no DOM): type the one call used.
    const { WebAssembly: wasm } = globalThis as unknown as {
      WebAssembly: {
        instantiate(
          bytes: Uint8Array,
          imports: object,
        ): Promise<{ instance: { exports: Record<string, unknown> } }>;
      };
    };
    const { instance } = await wasm.instantiate(readFileSync(wasmFile), { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
  })();
  return ready;
}

function migrationList(dir: string) {
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: readFileSync(path.join(dir, 'migration_lock.toml'), 'utf8'),
    },
    shadowDbInitScript: '',
    migrationDirectories: readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort()
      .map((name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: readFileSync(path.join(dir, name, 'migration.sql'), 'utf8') },
        },
      })),
  };
}

export interface SchemaDiff {
  /** True when applying the migrations yields exactly the schema. */
  empty: boolean;
  /** The SQL that would bring the migrated database to the schema (a new migration's body). */
  sql: string;
}

/**
 * What `prisma migrate diff --from-migrations prisma/migrations --to-schema prisma/schema.prisma --script` prints:
 * the migrations are replayed on a throw-away in-memory PGlite (the shadow database) and compared with the schema.
 */
export async function diffMigrationsToSchema(
  options: { schema?: string; migrations?: string; pglite?: PGlite } = {},
): Promise<SchemaDiff> {
  await loadWasm();
  const schema = options.schema ?? readFileSync(schemaPath, 'utf8');
  // The engine needs a main connection besides the shadow one; an empty in-memory PGlite serves (reusable).
  const pglite = options.pglite ?? (await PGlite.create());
  try {
    const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(pglite));
    const engine = await glue.SchemaEngine.new(
      { datamodels: [['schema.prisma', schema]] },
      () => {},
      adapter,
    );
    try {
      const result = await engine.diff({
        from: { tag: 'migrations', ...migrationList(options.migrations ?? migrationsDir) },
        to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
        script: true,
        exitCode: true,
        filters: { externalTables: [], externalEnums: [] },
      });
      return { empty: result.exitCode === 0, sql: result.stdout ?? '' };
    } finally {
      engine.free();
    }
  } finally {
    if (!options.pglite) await pglite.close();
  }
}

export interface PrismaHistoryCheck {
  /** What Prisma's `migrate deploy` applied (empty when the history it found was complete). */
  applied: string[];
  /** Prisma's diagnosis of the history table against prisma/migrations after that. */
  editedMigrationNames: string[];
  failedMigrationNames: string[];
  /** null when database and folder agree ('databaseIsBehind', 'historiesDiverge', … otherwise). */
  history: string | null;
}

/**
 * Runs what `prisma migrate deploy` runs (the engine's applyMigrations) on a PGlite database, then
 * `diagnoseMigrationHistory`: proves Prisma accepts a history our migrate() wrote, or writes one ours accepts.
 */
export async function prismaMigrateDeploy(
  pglite: PGlite,
  options: { migrations?: string } = {},
): Promise<PrismaHistoryCheck> {
  await loadWasm();
  const schema = readFileSync(schemaPath, 'utf8');
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPGlite(pglite));
  const engine = await glue.SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, () => {}, adapter);
  try {
    const migrationsList = migrationList(options.migrations ?? migrationsDir);
    const { appliedMigrationNames } = await engine.applyMigrations({
      migrationsList,
      filters: { externalTables: [], externalEnums: [] },
    });
    const diagnosis = await engine.diagnoseMigrationHistory({
      migrationsList,
      optInToShadowDatabase: false,
      filters: { externalTables: [], externalEnums: [] },
    });
    return {
      applied: appliedMigrationNames,
      editedMigrationNames: diagnosis.editedMigrationNames,
      failedMigrationNames: diagnosis.failedMigrationNames,
      history: diagnosis.history?.diagnostic ?? null,
    };
  } finally {
    engine.free();
  }
}
