/**
 * The GraphQL API under wrk: uncached (distinct bodies) and cached, limit 10 and 100, 50 and 8 connections, one
 * server process and `serve --workers 2`, beside the bare-HTTP floor, with the load average.
 *   pnpm exec tsx bench/api-wrk.ts [--seconds 10] [--workers 1,2] [--limits 10,100] [--json] [--reuse]
 * The script lives in apps/api/bench/wrk.ts, where the API's dependencies (@movierec/db) resolve.
 */
await import('../apps/api/bench/wrk.ts');
