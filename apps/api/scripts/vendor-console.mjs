// Installs the offline GraphQL console: copies the self-contained Altair bundle (npm package altair-static) into
// apps/api/static/vendor/altair/ and writes apps/api/static/console/index.html, which the API serves at /console.
// Runs at install (apps/api's postinstall); fetches nothing. Both outputs are generated, so they are gitignored
// (apps/api/static/.gitignore). Without altair-static (a production-only install) it warns and leaves /console out.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const staticDir = fileURLToPath(new URL('../static/', import.meta.url));
const vendorDir = `${staticDir}vendor/altair`;
const consoleDir = `${staticDir}console`;

let altair;
try {
  altair = require('altair-static');
} catch (error) {
  console.warn(
    `vendor-console: altair-static is not installed (${error.code ?? error.message}); ` +
      'the GraphQL console at /console will be missing. Run `pnpm install` with dev dependencies to add it.',
  );
  process.exit(0);
}

const initialQuery = `# movierec's GraphQL API (schema: packages/api/src/schema.graphql). Press Send (Ctrl+Enter).
# The catalogue and the model are public. A user's recommendations, predictRating, ratings and rateMovie need
# "Authorization: Bearer <token>" for that user (Set Headers): on a local demo server,
#   curl -s -X POST http://127.0.0.1:4000/auth/demo -H 'content-type: application/json' -d '{"userId":"1"}'
# gives one (see packages/api/README.md, Security).
query Similar($movieId: ID! = "1") {
  similarMovies(movieId: $movieId, limit: 5) {
    similarity
    movie { id title year genres }
  }
  activeModel {
    id
    engine
    metrics { rmse mae ndcgAt10 }
  }
}
`;

rmSync(vendorDir, { recursive: true, force: true });
mkdirSync(vendorDir, { recursive: true });
cpSync(altair.getDistDirectory(), vendorDir, { recursive: true });

const html = altair.renderAltair({
  baseURL: '/vendor/altair/',
  endpointURL: '/graphql',
  initialName: 'movierec',
  initialQuery,
  initialSettings: { 'plugin.list': [], disablePushNotification: true },
});
mkdirSync(consoleDir, { recursive: true });
writeFileSync(`${consoleDir}/index.html`, html);
console.log(
  `vendor-console: Altair ${require('altair-static/package.json').version} → ${vendorDir}, page → ${consoleDir}/index.html`,
);
