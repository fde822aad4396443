/** Structured logs: one JSON object per line on stdout (debug/info) or stderr (warn/error). */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  readonly level: LogLevel;
  debug(fields: Record<string, unknown>): void;
  info(fields: Record<string, unknown>): void;
  warn(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function isLogLevel(value: string): value is LogLevel {
  return value in ORDER;
}

/** A JSON-lines logger at `level` (default from LOG_LEVEL, else info). */
export function createLogger(level?: LogLevel, write?: (line: string, isError: boolean) => void): Logger {
  const env = process.env.LOG_LEVEL ?? '';
  const lvl: LogLevel = level ?? (isLogLevel(env) ? env : 'info');
  const min = ORDER[lvl];
  const out =
    write ??
    ((line: string, isError: boolean) => {
      (isError ? process.stderr : process.stdout).write(`${line}\n`);
    });
  const emit = (l: Exclude<LogLevel, 'silent'>, fields: Record<string, unknown>) => {
    if (ORDER[l] < min) return;
    out(JSON.stringify({ time: new Date().toISOString(), level: l, ...fields }), ORDER[l] >= ORDER.warn);
  };
  return {
    level: lvl,
    debug: (f) => emit('debug', f),
    info: (f) => emit('info', f),
    warn: (f) => emit('warn', f),
    error: (f) => emit('error', f),
  };
}
