import { isUtf8 } from 'node:buffer';
import { DataFormatError } from './errors.ts';
/**
 * Splits one line into fields. With `quotes`, a field that starts with '"' runs to the closing quote ('""' is a
 * literal quote, RFC 4180), so "American President, The (1995)" stays one field. Returns null for an unterminated
 * quote.
 */
export function splitFields(line: string, delimiter: string, quotes: boolean): string[] | null {
  if (!quotes || !line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  const n = line.length;
  const dl = delimiter.length;
  let p = 0;
  for (;;) {
    if (line.charCodeAt(p) === 34) {
      let value = '';
      let q = p + 1;
      for (;;) {
        const close = line.indexOf('"', q);
        if (close < 0) return null;
        value += line.slice(q, close);
        if (line.charCodeAt(close + 1) === 34) {
          value += '"';
          q = close + 2;
        } else {
          q = close + 1;
          break;
        }
      }
      out.push(value);
      if (q >= n) return out;
      if (!line.startsWith(delimiter, q)) {
        // text after the closing quote: keep it, as spreadsheets do
        const next = line.indexOf(delimiter, q);
        out[out.length - 1] += next < 0 ? line.slice(q) : line.slice(q, next);
        if (next < 0) return out;
        q = next;
      }
      p = q + dl;
    } else {
      const next = line.indexOf(delimiter, p);
      if (next < 0) {
        out.push(line.slice(p));
        return out;
      }
      out.push(line.slice(p, next));
      p = next + dl;
    }
    if (p > n) return out;
    if (p === n) {
      out.push('');
      return out;
    }
  }
}

/** "Toy Story (1995)" → { title: 'Toy Story', year: 1995 }; "Babylon 5 (1994-1998)" → year 1994; no year → 0. */
export function parseTitle(raw: string): { title: string; year: number } {
  const s = raw.trim();
  if (s.charCodeAt(s.length - 1) !== 41) return { title: s, year: 0 };
  const open = s.lastIndexOf('(');
  if (open < 0 || !/^\d{4}(?:\s*[-–]\s*(?:\d{4})?)?\)$/.test(s.slice(open + 1))) return { title: s, year: 0 };
  return { title: s.slice(0, open).trimEnd(), year: Number(s.slice(open + 1, open + 5)) };
}

/**
 * Decodes bytes as UTF-8, or as ISO-8859-1 when they are not valid UTF-8 (older MovieLens files) and no encoding
 * was asked for. With encoding 'utf8', bytes that are not UTF-8 throw a DataFormatError naming `file` and the line.
 */
export function decodeText(bytes: Uint8Array, encoding?: 'utf8' | 'latin1', file = 'input'): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (encoding === 'latin1') return buf.toString('latin1');
  if (isUtf8(buf)) return buf.toString('utf8');
  if (encoding === undefined) return buf.toString('latin1');
  // find the first line that is not UTF-8, for the message
  let start = 0;
  let line = 1;
  for (;;) {
    const nl = buf.indexOf(10, start);
    const end = nl < 0 ? buf.length : nl;
    if (!isUtf8(buf.subarray(start, end))) {
      const text = buf
        .subarray(start, Math.min(end, start + 200))
        .toString('latin1')
        .replace(/\r$/, '');
      throw new DataFormatError(
        file,
        line,
        text,
        'invalid UTF-8',
        'the line is not UTF-8 text; if the file is Latin-1 (ISO-8859-1), read it with --encoding latin1 ({ encoding: "latin1" })',
      );
    }
    if (nl < 0) break;
    start = nl + 1;
    line++;
  }
  return buf.toString('utf8');
}
