/**
 * HTTP hardening shared by every response: security headers (CSP, framing, nosniff), and per-client rate limiting
 * with `rate-limiter-flexible` (its in-memory limiter: atomic per-key counters with expiry, no timers per key, the
 * common choice for node:http; a Redis/Postgres store drops in when several processes must share one budget).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { isLoopbackHost } from '../auth/tokens.ts';

/**
 * The page loads its scripts, styles and data from this origin only; nothing may frame it. The GraphQL console
 * (Altair, under /console and /vendor/altair) needs inline styles and its inline bootstrap script (Angular), so it
 * gets 'unsafe-inline' for those two, and nothing else.
 */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const CONSOLE_CSP =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; " +
  "form-action 'self'; frame-ancestors 'none'";

/** Sets the headers every response carries. */
export function setSecurityHeaders(res: ServerResponse, path: string): void {
  const console = path === '/console' || path.startsWith('/console/') || path.startsWith('/vendor/altair/');
  res.setHeader('content-security-policy', console ? CONSOLE_CSP : PAGE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}

export interface RateLimitOptions {
  /** Requests a client may make per window (0 turns limiting off). Default 300. */
  points?: number;
  /** Window length in seconds. Default 10. */
  durationSeconds?: number;
  /** Count loopback clients too (default false: local tools, benches and a reverse proxy on the same host). */
  includeLoopback?: boolean;
}

export interface RateLimiter {
  /** Consumes one point for the client; false (after answering 429 with Retry-After) when over the limit. */
  admit(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/** Per-client (remote address) limiter on /graphql and /auth. */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const points = options.points ?? 300;
  const duration = options.durationSeconds ?? 10;
  if (points <= 0) return { admit: async () => true };
  const limiter = new RateLimiterMemory({ points, duration });
  return {
    async admit(req, res) {
      const client = req.socket.remoteAddress ?? 'unknown';
      if (!options.includeLoopback && isLoopbackHost(client)) return true;
      try {
        await limiter.consume(client, 1);
        return true;
      } catch (rejected) {
        if (!(rejected instanceof RateLimiterRes)) throw rejected;
        const retryAfter = Math.max(1, Math.ceil(rejected.msBeforeNext / 1000));
        const body = JSON.stringify({
          error: `too many requests from ${client}: at most ${points} per ${duration} s; retry after ${retryAfter} s`,
        });
        res.writeHead(429, {
          'retry-after': String(retryAfter),
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return false;
      }
    },
  };
}
