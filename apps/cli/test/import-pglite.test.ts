import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interruptImport, parseJson, runCli, tempDir } from './helpers.ts';

// Ctrl-C during an import into the embedded PGlite (db.test.ts covers PostgreSQL): PGlite runs in the CLI's own
// thread, so this checks that the import lets the SIGINT handler run and rolls back.
const dir = tempDir('import-pglite');
afterAll(() => dir.cleanup());
const env = { MOVIEREC_DATA_DIR: join(dir.path, 'pglite') };
const cli = (...args: string[]) => runCli(args, { env, cwd: dir.path });

describe('import into the embedded database', () => {
  it('Ctrl-C during an import of the bundled data rolls it back: exit 130, nothing written', async () => {
    const migrate = await cli('db', 'migrate');
    expect(migrate.code, migrate.stderr).toBe(0);
    await interruptImport({ env, cwd: dir.path });
    const status = await cli('db', 'status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(parseJson(status).counts).toEqual({ users: 0, movies: 0, ratings: 0, views: 0, modelVersions: 0 });
  });
});
