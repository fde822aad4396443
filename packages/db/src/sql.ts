import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { from as copyFromStream, to as copyToStream } from 'pg-copy-streams';

/** Data for COPY … FROM: binary chunks (FORMAT binary) or text chunks (FORMAT text). */
export type CopyChunks = Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/**
 * Raw SQL on one connection, the same on both databases: what bulk work needs beyond Prisma.
 * On PostgreSQL COPY streams through pg-copy-streams; on PGlite it goes through the `/dev/blob` device.
 */
export interface SqlSession {
  /** One statement with $1… parameters; rows as objects. Cast bigint/numeric results (`::int`, `::float8`). */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** A script of several statements, no parameters. */
  exec(script: string): Promise<void>;
  /** `COPY <target> FROM STDIN (FORMAT <format>)`, e.g. target `stage_ratings (user_idx, rating)`. */
  copyFrom(target: string, format: 'binary' | 'text', chunks: CopyChunks): Promise<void>;
  /** `COPY (<select>) TO STDOUT (FORMAT <format>)`, yielded as byte chunks in arrival order. */
  copyTo(select: string, format: 'binary' | 'text'): AsyncIterable<Uint8Array>;
}

/** A session on one pooled PostgreSQL connection. */
export function pgSession(client: pg.PoolClient | pg.Client): SqlSession {
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const result = await client.query(text, params as unknown[]);
      return result.rows as R[];
    },
    async exec(script) {
      await client.query(script);
    },
    async copyFrom(target, format, chunks) {
      const stream = client.query(copyFromStream(`COPY ${target} FROM STDIN (FORMAT ${format})`));
      // pipeline destroys the COPY stream when the source throws, which sends CopyFail: the statement fails cleanly.
      await pipeline(Readable.from(chunks, { objectMode: false }), stream);
    },
    async *copyTo(select, format) {
      const stream = client.query(copyToStream(`COPY (${select}) TO STDOUT (FORMAT ${format})`));
      for await (const chunk of stream) yield chunk as Uint8Array;
    },
  };
}

/** A session on PGlite (the instance itself, or a transaction of it). */
export function pgliteSession(db: PGlite | Transaction): SqlSession {
  return {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const result = await db.query<R>(text, params as unknown[]);
      return result.rows;
    },
    async exec(script) {
      await db.exec(script);
    },
    async copyFrom(target, format, chunks) {
      // PGlite reads COPY data from one in-memory Blob: gather the chunks (the Blob copies them once).
      const parts: (Uint8Array | string)[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      const blob = new Blob(parts as ConstructorParameters<typeof Blob>[0]);
      await db.query(`COPY ${target} FROM '/dev/blob' (FORMAT ${format})`, [], { blob });
    },
    async *copyTo(select, format) {
      const result = await db.query(`COPY (${select}) TO '/dev/blob' (FORMAT ${format})`);
      if (result.blob) yield new Uint8Array(await result.blob.arrayBuffer());
    },
  };
}
