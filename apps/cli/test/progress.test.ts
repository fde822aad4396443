import { describe, expect, it } from 'vitest';
import { formatCount, formatDuration, ProgressBar } from '../src/framework/progress.ts';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 100, write: (s: string) => chunks.push(s) };
}

describe('ProgressBar', () => {
  it('draws a bar with percent, rate and ETA on a TTY, redrawn in place with \\r', () => {
    const out = sink(true);
    let t = 0;
    const bar = new ProgressBar(out, 'tty', 'import', { unit: 'ratings', now: () => t });
    bar.update({ done: 0, total: 1000 });
    t = 1000;
    bar.update({ done: 250, total: 1000 });
    const last = out.chunks.at(-1)!;
    expect(last.startsWith('\r')).toBe(true);
    expect(last).toContain('25.0%');
    expect(last).toContain('250 ratings/s');
    expect(last).toContain('ETA 0:03'); // 750 left at 250/s
    t = 4000;
    bar.update({ done: 1000, total: 1000 });
    bar.finish();
    expect(out.chunks.join('')).toContain('100.0%');
    expect(out.chunks.at(-1)).toMatch(/\nimport: 1000 ratings in 4\.0s/);
  });

  it('throttles TTY redraws but always draws completion', () => {
    const out = sink(true);
    const t = 0;
    const bar = new ProgressBar(out, 'tty', 'x', { now: () => t });
    for (let i = 0; i < 100; i++) bar.update({ done: i, total: 100 });
    expect(out.chunks.length).toBe(1);
    bar.update({ done: 100, total: 100 });
    expect(out.chunks.length).toBe(2);
  });

  it('prints plain occasional lines when not a TTY, without control characters', () => {
    const out = sink(false);
    let t = 0;
    const bar = new ProgressBar(out, 'lines', 'train', { now: () => t, lineIntervalMs: 2000 });
    bar.update({ done: 0, total: 10 });
    t = 500;
    bar.update({ done: 1, total: 10 });
    t = 2500;
    bar.update({ done: 5, total: 10 });
    t = 3000;
    bar.update({ done: 6, total: 10 });
    t = 5000;
    bar.update({ done: 10, total: 10 });
    bar.finish();
    expect(out.chunks).toHaveLength(3);
    expect(out.chunks[0]).toMatch(/^train: 50\.0% \(5\/10\), 2\/s, ETA 0:03/);
    expect(out.chunks[1]).toMatch(/^train: 100\.0%/);
    expect(out.chunks[2]).toMatch(/^train: done, 10 in 5\.0s/);
    const text = out.chunks.join('');
    expect(text.includes('\r') || text.includes('\u001b')).toBe(false);
  });

  it('is silent in silent mode (--json)', () => {
    const out = sink(true);
    const bar = new ProgressBar(out, 'silent', 'x');
    bar.update({ done: 5, total: 10 });
    bar.finish();
    expect(out.chunks).toEqual([]);
  });

  it('formats counts and durations', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12345)).toBe('12.3k');
    expect(formatCount(1_234_567)).toBe('1.23M');
    expect(formatDuration(7)).toBe('0:07');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(formatDuration(Number.NaN)).toBe('--:--');
  });
});
