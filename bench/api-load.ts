/**
 * Load test of the GraphQL API (recommendations for random users, autocannon → server child process).
 *   pnpm exec tsx bench/api-load.ts [--seconds 10] [--json] [--only floor|bundled|synthetic]
 * The script lives in apps/api/bench/load.ts, where the API's dependencies (autocannon, @movierec/*) resolve.
 */
await import('../apps/api/bench/load.ts');
