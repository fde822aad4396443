import { execFileSync } from 'node:child_process';

/**
 * One run of wrk (the HTTP load generator, Debian's package) with one thread, and the figures of its report: the
 * one place the benches start wrk and read what it prints.
 */
export interface WrkReport {
  /** Requests completed in the run. */
  requests: number;
  requestsPerSecond: number;
  /** Latency percentiles in milliseconds (null without `latency`, or where wrk printed none). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
  /** Responses with a status other than 2xx or 3xx. */
  non2xx: number;
}

/** `wrk -t1 -c<connections> -d<seconds>s [--latency] -s <script> <url>`; `latency` defaults to true. */
export function runWrk(
  url: string,
  script: string,
  options: { connections: number; seconds: number; latency?: boolean },
): WrkReport {
  const { connections, seconds, latency = true } = options;
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${seconds}s`, ...(latency ? ['--latency'] : []), '-s', script, url],
    { encoding: 'utf8' },
  );
  return parseWrk(out);
}

/** The figures of a wrk report (its text on stdout). */
export function parseWrk(out: string): WrkReport {
  const field = (re: RegExp) => re.exec(out)?.[1];
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(field(/(\d+) requests in/) ?? Number.NaN),
    requestsPerSecond: Number(field(/Requests\/sec:\s+([\d.]+)/) ?? Number.NaN),
    p50Ms: ms(field(/^\s+50%\s+(\S+)/m)),
    p99Ms: ms(field(/^\s+99%\s+(\S+)/m)),
    socketErrors: socket === null ? 0 : socket.slice(1).reduce((a, b) => a + Number(b), 0),
    non2xx: Number(field(/Non-2xx or 3xx responses: (\d+)/) ?? 0),
  };
}

/** A wrk latency ("950.00us", "1.23ms", "1.02s") in milliseconds. */
function ms(text: string | undefined): number | null {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  if (m === null) return null;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}
