import { isUtf8 } from 'node:buffer';
import { ColumnBuilder } from './column-builder.ts';
import { DataFormatError } from './errors.ts';
import type { IdRegistry } from './id-registry.ts';
import { splitFields } from './text.ts';
import { idProblem, type RatingScale, ratingProblem } from './validate.ts';

/**
 * Which column of a ratings (or watch-history) file holds what: a 0-based position or a header name
 * (case-insensitive).
 */
export interface ColumnSpec {
  user: number | string;
  item: number | string;
  /** The rating; null only for watch history (kind 'views'), which has none. */
  rating: number | string | null;
  /** null or absent: the file has no timestamps (stored as 0). */
  timestamp?: number | string | null;
  /** Watch history only: the weight of each view (plays, minutes, purchases); null or absent: every row weighs 1. */
  weight?: number | string | null;
}

/**
 * What the rows of a file are: 'ratings' (user, movie, rating[, timestamp]) or 'views' — watch history, rows of
 * (user, movie[, timestamp][, weight]) with no rating: views, plays, purchases.
 */
export type DataKind = 'ratings' | 'views';

/** How a ratings file is laid out. */
export interface RatingsLayout {
  /** Field separator: one or two ASCII characters (',', '\t', ';', '|', '::'). */
  delimiter: string;
  columns: ColumnSpec;
  /** true: the first line is a header; 'auto': it is one when its rating field is not a number. */
  header: boolean | 'auto';
  /** Fixed formats: every row has exactly this many fields. */
  exactFields?: number;
  /** IDs must be decimal integers (the GroupLens formats). */
  intIds: boolean;
  /** Fields may be "double-quoted" (CSV). */
  quotes: boolean;
  /**
   * 'views': watch history — the value column is `columns.weight` (a number > 0; absent: 1) instead of a rating,
   * and a repeated (user, movie) pair sums its weights. Default 'ratings'.
   */
  kind?: DataKind;
}

export type BadRowPolicy = 'error' | 'skip';

export interface RatingsParseOptions {
  /** Name used in errors ("ml-1m.zip/ml-1m/ratings.dat"). */
  file: string;
  /** Valid ratings (min, max, step; step 0: any value in range). */
  scale: RatingScale;
  onBadRow: BadRowPolicy;
  encoding: 'utf8' | 'latin1';
  /** Uncompressed size in bytes when known: sizes the columns once (see ColumnBuilder). */
  sizeHint?: number;
  users: IdRegistry;
  items: IdRegistry;
  /** Counts of skipped rows by reason (mutated). */
  skipped: Record<string, number>;
}

const ROLE_NONE = 0;
const ROLE_USER = 1;
const ROLE_ITEM = 2;
const ROLE_RATING = 3;
const ROLE_TIME = 4;
const NL = 10;
const CR = 13;
const QUOTE = 34;
const MAX_LINE = 1 << 20;
const MAX_TIMESTAMP = 2147483647;
const SEPARATORS = [',', '\t', ';', '|', '::'];
/** The weights a view may have: > 0 and finite in float32 (the fast path's range check; 0 takes the text path). */
const WEIGHT_RANGE: RatingScale = Object.freeze({ min: Number.MIN_VALUE, max: 3.4e38, step: 0 });

/**
 * Streaming ratings parser over raw bytes: feed chunks with push(), then end(). Memory is the columns plus at most
 * one partial line. Each line is parsed straight from the bytes (integers, decimals) with no string made; any line
 * the fast path does not recognise (quotes, spaces, string IDs, a bad value) is re-read as text by a careful path
 * that either accepts it or reports it precisely.
 */
export class RatingsParser {
  readonly builder: ColumnBuilder;
  /** Data rows seen (excluding the header and blank lines). */
  rowsRead = 0;
  readonly #layout: RatingsLayout;
  readonly #opts: RatingsParseOptions;
  readonly #d0: number;
  readonly #d1: number;
  #roles = new Int8Array(0);
  #cols = { user: 0, item: 0, rating: 0, timestamp: -1 };
  #needed = 0;
  #line = 0;
  #started = false;
  #headerDone = false;
  #carry: Uint8Array | null = null;
  #bytes = 0;
  /** Watch history: the value is a weight, not a rating. */
  readonly #views: boolean;

  constructor(layout: RatingsLayout, opts: RatingsParseOptions) {
    const d = layout.delimiter;
    if (d.length < 1 || d.length > 2 || d.charCodeAt(0) > 127 || (d.length === 2 && d.charCodeAt(1) > 127))
      throw new TypeError(`delimiter must be one or two ASCII characters, got ${JSON.stringify(d)}`);
    this.#views = layout.kind === 'views';
    this.builder = new ColumnBuilder(1024, this.#views ? 'sum' : 'latest');
    // the value column of watch history is its weight (none: every view weighs 1)
    if (this.#views)
      layout = { ...layout, columns: { ...layout.columns, rating: layout.columns.weight ?? null } };
    else if (layout.columns.rating == null)
      throw new TypeError('a ratings file needs a rating column (watch history: kind "views")');
    this.#layout = layout;
    this.#opts = this.#views ? { ...opts, scale: WEIGHT_RANGE } : opts;
    this.#d0 = d.charCodeAt(0);
    this.#d1 = d.length === 2 ? d.charCodeAt(1) : -1;
    const c = layout.columns;
    if (
      typeof c.user === 'number' &&
      typeof c.item === 'number' &&
      (c.rating == null || typeof c.rating === 'number') &&
      (c.timestamp == null || typeof c.timestamp === 'number')
    ) {
      this.#setColumns(c.user, c.item, c.rating ?? -1, c.timestamp ?? -1);
    } else if (layout.header === false) {
      throw new TypeError('columns given by name need a header line (header: true)');
    }
    if (layout.header === false) this.#headerDone = true;
  }

  /** Bytes consumed so far. */
  get bytesRead(): number {
    return this.#bytes;
  }

  #setColumns(user: number, item: number, rating: number, timestamp: number): void {
    this.#cols = { user, item, rating, timestamp };
    this.#needed = Math.max(user, item, rating, timestamp) + 1;
    const roles = new Int8Array(this.#needed);
    roles[user] = ROLE_USER;
    roles[item] = ROLE_ITEM;
    if (rating >= 0) roles[rating] = ROLE_RATING;
    if (timestamp >= 0) roles[timestamp] = ROLE_TIME;
    this.#roles = roles;
  }

  push(chunk: Uint8Array): void {
    let from = 0;
    if (!this.#started) {
      this.#started = true;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) from = 3; // UTF-8 byte-order mark
      this.#reserveFromSample(chunk);
    }
    this.#bytes += chunk.length;
    const carry = this.#carry;
    if (carry) {
      const nl = chunk.indexOf(NL, from);
      if (nl < 0) {
        if (carry.length + chunk.length > MAX_LINE) this.#lineTooLong(carry);
        this.#carry = concat(carry, chunk.subarray(from));
        return;
      }
      const joined = concat(carry, chunk.subarray(from, nl + 1));
      this.#carry = null;
      this.#parse(joined, 0, joined.length);
      from = nl + 1;
    }
    const last = chunk.lastIndexOf(NL);
    if (last < from) {
      this.#carry = copy(chunk, from, chunk.length);
      return;
    }
    this.#parse(chunk, from, last + 1);
    if (last + 1 < chunk.length) {
      if (chunk.length - last - 1 > MAX_LINE) this.#lineTooLong(chunk.subarray(last + 1));
      this.#carry = copy(chunk, last + 1, chunk.length);
    }
  }

  end(): void {
    const carry = this.#carry;
    this.#carry = null;
    if (carry && carry.length > 0) {
      const line = concat(carry, Uint8Array.of(NL));
      this.#parse(line, 0, line.length);
    }
    if (this.rowsRead === 0 && (!this.#headerDone || this.#layout.header === false)) {
      throw new DataFormatError(this.#opts.file, 0, '', 'empty file', `no header and no ${this.#what}`);
    }
    if (this.rowsRead === 0) {
      throw new DataFormatError(this.#opts.file, 0, '', 'empty file', `a header but no ${this.#what}`);
    }
  }

  get #what(): string {
    return this.#views ? 'views' : 'ratings';
  }

  /** Sizes the columns from the uncompressed size and the mean line length of the first chunk (overestimates). */
  #reserveFromSample(chunk: Uint8Array): void {
    const size = this.#opts.sizeHint;
    if (!size) return;
    const end = Math.min(chunk.length, 1 << 18);
    let lines = 0;
    for (let p = chunk.indexOf(NL); p >= 0 && p < end; p = chunk.indexOf(NL, p + 1)) lines++;
    if (lines < 2) return;
    const meanBytes = end / lines;
    this.builder.reserve(Math.min((size / meanBytes) * 1.25 + 1024, 2 ** 31 - 1));
  }

  #lineTooLong(bytes: Uint8Array): never {
    throw new DataFormatError(
      this.#opts.file,
      this.#line + 1,
      this.#decode(bytes, 0, Math.min(bytes.length, 200)),
      'malformed line',
      `a line longer than ${MAX_LINE} bytes (is this a ratings file?)`,
    );
  }

  #decode(buf: Uint8Array, start: number, end: number): string {
    return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString(this.#opts.encoding);
  }

  /** A line as text for parsing: in UTF-8 mode, bytes that are not UTF-8 stop the read with file:line. */
  #decodeLine(buf: Uint8Array, start: number, end: number): string {
    if (this.#opts.encoding === 'utf8') {
      for (let k = start; k < end; k++) {
        if (buf[k]! >= 0x80) {
          const bytes = buf.subarray(start, end);
          if (!isUtf8(bytes)) {
            throw new DataFormatError(
              this.#opts.file,
              this.#line,
              clip(Buffer.from(bytes).toString('latin1').replace(/\r$/, '')),
              'invalid UTF-8',
              'the line is not UTF-8 text; if the file is Latin-1 (ISO-8859-1), read it with --encoding latin1 ({ encoding: "latin1" })',
            );
          }
          break;
        }
      }
    }
    return this.#decode(buf, start, end);
  }

  /** Parses whole lines buf[from, to); buf[to - 1] is '\n'. The hot loop. */
  #parse(buf: Uint8Array, from: number, to: number): void {
    let p = from;
    if (!this.#headerDone) {
      while (p < to && !this.#headerDone) {
        const e = buf.indexOf(NL, p);
        this.#line++;
        this.#header(this.#decodeLine(buf, p, e).replace(/\r$/, ''));
        p = e + 1;
      }
    }
    const d0 = this.#d0;
    const d1 = this.#d1;
    const roles = this.#roles;
    const nRoles = roles.length;
    const exact = this.#layout.exactFields ?? 0;
    const needed = this.#needed;
    const { min, max, step } = this.#opts.scale;
    const users = this.#opts.users;
    const items = this.#opts.items;
    const builder = this.builder;
    // watch history without a weight column: every row weighs 1 (no field sets the value)
    const noValue = this.#cols.rating < 0;
    let rows = 0;
    while (p < to) {
      const lineStart = p;
      this.#line++;
      let f = 0;
      let userId = -1;
      let itemId = -1;
      let rating = noValue ? 1 : Number.NaN;
      let time = 0;
      let ok = true;
      for (;;) {
        const role = f < nRoles ? roles[f]! : ROLE_NONE;
        let c = buf[p]!;
        if (role === ROLE_NONE) {
          if (c === QUOTE) {
            ok = false;
            break;
          }
          while (c !== d0 && c !== NL && c !== CR) c = buf[++p]!;
        } else if (role === ROLE_RATING) {
          const s = p;
          let whole = 0;
          while (c >= 48 && c <= 57) {
            whole = whole * 10 + (c - 48);
            c = buf[++p]!;
          }
          let digits = p - s;
          rating = whole;
          if (c === 46) {
            c = buf[++p]!;
            const s2 = p;
            let frac = 0;
            let div = 1;
            while (c >= 48 && c <= 57) {
              frac = frac * 10 + (c - 48);
              div *= 10;
              c = buf[++p]!;
            }
            digits += p - s2;
            rating = whole + frac / div;
          }
          if (digits === 0 || digits > 12) {
            ok = false;
            break;
          }
        } else {
          const s = p;
          let v = 0;
          while (c >= 48 && c <= 57) {
            v = v * 10 + (c - 48);
            c = buf[++p]!;
          }
          const digits = p - s;
          if (role === ROLE_TIME) {
            if (digits === 0 || digits > 10) {
              ok = false;
              break;
            }
            time = v;
          } else {
            // canonical integer IDs only ("0" or no leading zero); others take the text path
            if (digits === 0 || digits > 9 || (digits > 1 && buf[s] === 48)) {
              ok = false;
              break;
            }
            if (role === ROLE_USER) userId = v;
            else itemId = v;
          }
        }
        if (c === d0) {
          if (d1 >= 0) {
            if (buf[p + 1] !== d1) {
              ok = false;
              break;
            }
            p += 2;
          } else p++;
          f++;
          continue;
        }
        if (c === CR) {
          if (buf[p + 1] !== NL) {
            ok = false;
            break;
          }
          p++;
          c = NL;
        }
        if (c === NL) {
          p++;
          break;
        }
        ok = false;
        break;
      }
      const fields = f + 1;
      if (ok && fields >= needed && (exact === 0 || fields === exact) && rating >= min && rating <= max) {
        // on the scale's grid: (r − min) / step an integer (see validate.ts onGrid)
        const k = step > 0 ? (rating - min) / step : 0;
        if (time <= MAX_TIMESTAMP && Math.abs(k - Math.round(k)) <= 1e-6) {
          builder.add(users.addInt(userId), items.addInt(itemId), rating, time);
          rows++;
          continue;
        }
      }
      // Anything unusual: re-read the line as text.
      const e = buf.indexOf(NL, lineStart);
      this.rowsRead += rows;
      rows = 0;
      this.#textRow(this.#decodeLine(buf, lineStart, e));
      p = e + 1;
    }
    this.rowsRead += rows;
  }

  /** Throws, or counts the row as skipped under `reason`; returns false (row not taken). */
  #bad(text: string, reason: string, detail?: string): false {
    if (this.#opts.onBadRow === 'error' || (reason === 'wrong separator' && this.builder.length === 0)) {
      throw new DataFormatError(this.#opts.file, this.#line, clip(text), reason, detail);
    }
    this.#opts.skipped[reason] = (this.#opts.skipped[reason] ?? 0) + 1;
    return false;
  }

  #split(text: string): string[] | null {
    return splitFields(text, this.#layout.delimiter, this.#layout.quotes);
  }

  /** The first non-blank line: a header (resolving named columns) or, for 'auto', possibly the first row. */
  #header(text: string): void {
    if (text.trim() === '') return;
    const layout = this.#layout;
    const fields = this.#split(text);
    if (!fields) {
      throw new DataFormatError(
        this.#opts.file,
        this.#line,
        clip(text),
        'malformed line',
        'unterminated quote',
      );
    }
    const c = layout.columns;
    const named = typeof c.user === 'string' || typeof c.item === 'string' || typeof c.rating === 'string';
    const namedTs = typeof c.timestamp === 'string';
    if (layout.header === 'auto' && !named && !namedTs) {
      // a header has a non-numeric rating field and a non-numeric user field; anything else is the first row
      // (so a headerless file whose first rating is bad gets an error, not silently taken as a header)
      const ratingField = c.rating == null ? '' : (fields[c.rating as number]?.trim() ?? '');
      const userField = fields[c.user as number]?.trim() ?? '';
      const numeric = (x: string) => x !== '' && !Number.isNaN(Number(x));
      if (numeric(ratingField) || numeric(userField)) {
        this.#headerDone = true;
        this.#textRow(text);
        return;
      }
    }
    this.#headerDone = true;
    const expected = Math.max(
      ...[c.user, c.item, c.rating ?? -1, c.timestamp ?? -1].map((x) => (typeof x === 'number' ? x + 1 : 2)),
    );
    if (fields.length === 1 && expected > 1) {
      throw new DataFormatError(
        this.#opts.file,
        this.#line,
        clip(text),
        'wrong separator',
        this.#separatorHint(text),
      );
    }
    const names = fields.map((x) => x.trim().toLowerCase());
    const find = (spec: number | string, what: string): number => {
      if (typeof spec === 'number') {
        if (spec >= fields.length) {
          throw new DataFormatError(
            this.#opts.file,
            this.#line,
            clip(text),
            'missing column',
            `the header has ${fields.length} columns, no column ${spec} for the ${what}`,
          );
        }
        return spec;
      }
      const k = names.indexOf(spec.toLowerCase());
      if (k < 0) {
        throw new DataFormatError(
          this.#opts.file,
          this.#line,
          clip(text),
          'missing column',
          `no column "${spec}" for the ${what}; the header has ${fields.map((x) => JSON.stringify(x.trim())).join(', ')}`,
        );
      }
      return k;
    };
    this.#setColumns(
      find(c.user, 'user'),
      find(c.item, 'movie'),
      c.rating == null ? -1 : find(c.rating, this.#views ? 'weight' : 'rating'),
      c.timestamp == null ? -1 : find(c.timestamp, 'timestamp'),
    );
  }

  #separatorHint(text: string): string {
    const d = this.#layout.delimiter;
    const seen = SEPARATORS.filter((s) => s !== d && text.includes(s));
    const name = (s: string) => (s === '\t' ? 'tab' : `"${s}"`);
    return seen.length > 0
      ? `expected ${name(d)}-separated fields but the line is ${name(seen[0]!)}-separated; pass { delimiter: ${JSON.stringify(seen[0])} } or the right format`
      : `expected ${name(d)}-separated fields, found one field`;
  }

  /** The careful path: one line as text, accepted or reported. */
  #textRow(raw: string): boolean {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return false;
    this.rowsRead++;
    const fields = this.#split(text);
    if (!fields) return this.#bad(text, 'malformed line', 'unterminated quote');
    const needed = this.#needed;
    const exact = this.#layout.exactFields ?? 0;
    if (fields.length === 1 && needed > 1) {
      const hint = this.#separatorHint(text);
      return this.#bad(text, hint.includes('-separated;') ? 'wrong separator' : 'missing column', hint);
    }
    if (fields.length < needed) {
      return this.#bad(text, 'missing column', `expected ${exact || needed} fields, found ${fields.length}`);
    }
    if (exact > 0 && fields.length !== exact) {
      return this.#bad(text, 'malformed line', `expected ${exact} fields, found ${fields.length}`);
    }
    const cols = this.#cols;
    const intIds = this.#layout.intIds;
    const user = fields[cols.user]!.trim();
    if (user === '' || (intIds && !/^\d+$/.test(user))) {
      return this.#bad(
        text,
        'bad user id',
        user === '' ? 'empty user ID' : `user ID ${JSON.stringify(user)}`,
      );
    }
    const userProblem = idProblem(user);
    if (userProblem) return this.#bad(text, 'bad user id', `user ID ${JSON.stringify(user)}: ${userProblem}`);
    const item = fields[cols.item]!.trim();
    if (item === '' || (intIds && !/^\d+$/.test(item))) {
      return this.#bad(
        text,
        'bad movie id',
        item === '' ? 'empty movie ID' : `movie ID ${JSON.stringify(item)}`,
      );
    }
    const itemProblem = idProblem(item);
    if (itemProblem)
      return this.#bad(text, 'bad movie id', `movie ID ${JSON.stringify(item)}: ${itemProblem}`);
    let rating = 1;
    if (this.#views && cols.rating >= 0) {
      const weightText = fields[cols.rating]!.trim();
      rating = weightText === '' ? Number.NaN : Number(weightText);
      if (!Number.isFinite(rating))
        return this.#bad(text, 'non-numeric weight', `weight ${JSON.stringify(weightText)} is not a number`);
      if (!(rating > 0) || rating > WEIGHT_RANGE.max)
        return this.#bad(
          text,
          'bad weight',
          `weight ${weightText} must be a number > 0 (a view's weight: plays, minutes, purchases)`,
        );
    } else if (!this.#views) {
      const ratingText = fields[cols.rating]!.trim();
      rating = ratingText === '' ? Number.NaN : Number(ratingText);
      if (!Number.isFinite(rating)) {
        return this.#bad(
          text,
          'non-numeric rating',
          `rating ${JSON.stringify(ratingText)}${
            this.#layout.header === true || typeof this.#layout.columns.rating === 'string'
              ? ' (watch history has no rating column: drop it, or read the file as views: option kind "views", CLI --kind views)'
              : ''
          }`,
        );
      }
      const scaleProblem = ratingProblem(rating, this.#opts.scale);
      if (scaleProblem) {
        return this.#bad(text, 'rating out of scale', `${scaleProblem} (option scale, CLI --scale)`);
      }
    }
    let time = 0;
    if (cols.timestamp >= 0) {
      const t = fields[cols.timestamp]!.trim();
      if (/^\d+$/.test(t)) time = Number(t);
      else if (!intIds && t !== '' && !Number.isNaN(Date.parse(t))) time = Math.floor(Date.parse(t) / 1000);
      else return this.#bad(text, 'bad timestamp', `timestamp ${JSON.stringify(t)} is not Unix seconds`);
      if (time > MAX_TIMESTAMP || time < 0) {
        return this.#bad(text, 'bad timestamp', `timestamp ${t} is outside 1970–2038 Unix seconds`);
      }
    }
    this.builder.add(this.#opts.users.addString(user), this.#opts.items.addString(item), rating, time);
    return true;
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A copy (Buffer#slice would be a view, and chunk buffers are reused). */
function copy(a: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(a.subarray(start, end));
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
