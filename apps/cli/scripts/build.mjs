// Precompiles the CLI's run path: src/main.ts and the workspace packages it imports (their TypeScript source)
// bundled by esbuild into dist/ (ES modules, split at dynamic imports so the database and the API still load only
// when a command needs them). bin/movierec.mjs runs dist/ when it is up to date and rebuilds it when a source file
// changed, so `movierec` starts without a TypeScript loader (`pnpm --filter cli <cmd>` and the tests still run the
// source through tsx). The bundle is built where it runs and is not relocatable:
// - packages from node_modules stay external, imported by the absolute path esbuild resolved them to from the
//   importing source file (pnpm keeps each package's dependencies beside it, not under apps/cli);
// - `import.meta.url` in a bundled source file is replaced by that file's own URL, so every path computed from it
//   (the repository root, the migrations, the GraphQL schema, the worker script) is what it is in the source.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = join(cliDir, '../..');
export const distDir = join(cliDir, 'dist');
export const manifestPath = join(distDir, 'inputs.json');

const workspaceSource = {
  name: 'workspace-source',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner') return undefined;
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      if (args.path.startsWith('@movierec/') || args.path === 'cli') return undefined; // bundled
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'inner',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
    build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
      if (args.path.includes(`${'/'}node_modules${'/'}`)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/** Builds dist/ (into a temporary folder, then renamed into place) and writes the manifest of its inputs. */
export async function buildCli() {
  const { build } = await import('esbuild');
  const tmp = `${distDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: { main: join(cliDir, 'src/main.ts') },
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    metafile: true,
    logLevel: 'silent',
    plugins: [workspaceSource],
  });
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    const absolute = join(repoRoot, file);
    inputs[absolute] = statSync(absolute).mtimeMs;
  }
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ inputs }));
  // another process may have built it meanwhile (and may be running it): keep theirs
  if (distIsFresh()) {
    rmSync(tmp, { recursive: true, force: true });
    return Object.keys(inputs).length;
  }
  rmSync(distDir, { recursive: true, force: true });
  renameSync(tmp, distDir);
  return Object.keys(inputs).length;
}

/** True when dist/ exists and none of its inputs changed since it was built. */
export function distIsFresh() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return false;
  }
  for (const [file, mtime] of Object.entries(manifest.inputs)) {
    try {
      if (statSync(file).mtimeMs !== mtime) return false;
    } catch {
      return false;
    }
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = await buildCli();
  console.log(`cli: bundled ${count} source files → ${join(dirname(manifestPath))}`);
}
