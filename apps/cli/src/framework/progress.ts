/** Progress as every package reports it: `onProgress({ done, total })`. */
export interface ProgressEvent {
  done: number;
  total: number;
}

/** 'tty': a bar redrawn in place; 'lines': occasional plain lines (logs, CI); 'silent': nothing (--json). */
export type ProgressMode = 'tty' | 'lines' | 'silent';

export interface ProgressOptions {
  /** What is counted, e.g. 'ratings' (shown in the rate). */
  unit?: string;
  /** Milliseconds between plain lines in 'lines' mode (default 2000). */
  lineIntervalMs?: number;
  /** Clock in milliseconds (tests inject one). */
  now?: () => number;
  /** Terminal width for the bar (default: the stream's columns, else 80). */
  columns?: number;
}

interface Writable {
  write(chunk: string): unknown;
  columns?: number;
}

const TTY_REDRAW_MS = 100;
const BAR_WIDTH = 24;

/** 12345 → '12.3k', 1234567 → '1.23M'. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  if (abs >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toPrecision(3);
}

/** Seconds → '0:07', '3:25', '1:02:03'. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/**
 * Renders one long task's progress on stderr. Rate = done / elapsed since the first update; ETA = (total − done) / rate.
 * Packages never draw: they call `update({ done, total })` through their `onProgress` callback.
 */
export class ProgressBar {
  readonly #stream: Writable;
  readonly #mode: ProgressMode;
  readonly #label: string;
  readonly #unit: string;
  readonly #lineIntervalMs: number;
  readonly #now: () => number;
  readonly #columns: number | undefined;
  #start = -1;
  #lastDraw = -Infinity;
  #last: ProgressEvent = { done: 0, total: 0 };
  #finished = false;
  #drawn = false;

  constructor(stream: Writable, mode: ProgressMode, label: string, options: ProgressOptions = {}) {
    this.#stream = stream;
    this.#mode = mode;
    this.#label = label;
    this.#unit = options.unit ?? '';
    this.#lineIntervalMs = options.lineIntervalMs ?? 2000;
    this.#now = options.now ?? (() => performance.now());
    this.#columns = options.columns;
  }

  /** The callback to hand to a package. */
  readonly onProgress = (event: ProgressEvent): void => this.update(event);

  update(event: ProgressEvent): void {
    if (this.#finished || this.#mode === 'silent') {
      this.#last = event;
      return;
    }
    const t = this.#now();
    if (this.#start < 0) {
      this.#start = t;
      // Plain lines start one interval in: a rate needs elapsed time, and short tasks print only their summary.
      if (this.#mode === 'lines') this.#lastDraw = t;
    }
    this.#last = event;
    if (this.#mode === 'tty') {
      if (t - this.#lastDraw < TTY_REDRAW_MS && event.done < event.total) return;
      this.#lastDraw = t;
      this.#drawBar(t);
    } else if (t - this.#lastDraw >= this.#lineIntervalMs) {
      // At most one line per interval.
      this.#lastDraw = t;
      this.#stream.write(`${this.#label}: ${this.#describe(t)}\n`);
    }
  }

  /** Ends the bar: the final state on its own line (TTY), or a closing plain line. */
  finish(message?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#mode === 'silent') return;
    const t = this.#now();
    if (this.#start < 0) this.#start = t;
    const elapsed = (t - this.#start) / 1000;
    const { done } = this.#last;
    const rate = elapsed > 0 ? done / elapsed : Number.NaN;
    const summary =
      message ??
      `${formatCount(done)}${this.#unit ? ` ${this.#unit}` : ''} in ${elapsed.toFixed(1)}s` +
        (Number.isFinite(rate) ? ` (${formatCount(rate)}/s)` : '');
    if (this.#mode === 'tty') {
      if (this.#drawn) this.#drawBar(t);
      this.#stream.write(`${this.#drawn ? '\n' : ''}${this.#label}: ${summary}\n`);
    } else {
      this.#stream.write(`${this.#label}: done, ${summary}\n`);
    }
  }

  /** Writes other output (e.g. a per-epoch line) without tearing the bar: clear the bar's line, write, redraw. */
  interrupt(write: () => void): void {
    const redraw = this.#mode === 'tty' && this.#drawn && !this.#finished;
    if (redraw) this.#stream.write('\r\x1b[K');
    write();
    if (redraw) this.#drawBar(this.#now());
  }

  /** Ends the bar without a summary (on error or abort), leaving the cursor on a fresh line. */
  abort(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#mode === 'tty' && this.#drawn) this.#stream.write('\n');
  }

  #describe(t: number): string {
    const { done, total } = this.#last;
    const elapsed = (t - this.#start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : Number.NaN;
    const eta = Number.isFinite(rate) && rate > 0 ? (total - done) / rate : Number.NaN;
    const pct = total > 0 ? (100 * done) / total : 0;
    const unit = this.#unit ? ` ${this.#unit}` : '';
    return (
      `${pct.toFixed(1)}% (${formatCount(done)}/${formatCount(total)}${unit})` +
      `, ${Number.isFinite(rate) ? formatCount(rate) : '?'}${unit}/s, ETA ${formatDuration(eta)}`
    );
  }

  #drawBar(t: number): void {
    const { done, total } = this.#last;
    const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    let line = `${this.#label} ${bar} ${this.#describe(t)}`;
    const columns = this.#columns ?? (this.#stream.columns || 80);
    if (line.length > columns - 1) line = line.slice(0, Math.max(10, columns - 1));
    // \r returns to the line start, \x1b[K clears what a longer previous line left behind.
    this.#stream.write(`\r${line}\x1b[K`);
    this.#drawn = true;
  }
}
