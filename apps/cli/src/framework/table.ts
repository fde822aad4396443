/** A plain-text table: right-aligned numbers, left-aligned text, a rule under the header. */
export function table(header: string[], rows: (string | number | null | undefined)[][], digits = 4): string {
  const cells = rows.map((row) =>
    row.map((v) =>
      v === null || v === undefined
        ? '—'
        : typeof v === 'number'
          ? Number.isInteger(v)
            ? String(v)
            : v.toFixed(digits)
          : v,
    ),
  );
  const isNumber = (v: unknown) =>
    typeof v === 'number' || v == null || (typeof v === 'string' && /^-?\d[\d.]*$/.test(v));
  const numeric = header.map((_, c) => rows.every((row) => isNumber(row[c])));
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
