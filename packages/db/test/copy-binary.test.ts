import { describe, expect, it } from 'vitest';
import { BinaryRowDecoder, binaryHeader, binaryTrailer, encodeRows } from '../src/copy-binary.ts';

describe('binary COPY codec', () => {
  it('decodes rows split across arbitrary chunk boundaries, values exact', () => {
    const n = 257;
    const a = Int32Array.from({ length: n }, (_, r) => r * 3 - 100);
    const b = Float32Array.from({ length: n }, (_, r) => r / 7);
    const bytes = Buffer.concat([
      binaryHeader(),
      encodeRows(
        [
          { kind: 'int4', values: a },
          { kind: 'float4', values: b },
        ],
        0,
        n,
      ),
      binaryTrailer(),
    ]);
    for (const size of [1, 5, 18, 19, 64, bytes.length]) {
      const decoder = new BinaryRowDecoder(2);
      const gotA: number[] = [];
      const gotB: number[] = [];
      for (let at = 0; at < bytes.length; at += size) {
        decoder.push(bytes.subarray(at, at + size), (view, offset) => {
          gotA.push(view.getInt32(offset));
          gotB.push(view.getFloat32(offset + 8));
        });
      }
      expect(decoder.ended).toBe(true);
      expect(gotA).toEqual(Array.from(a));
      expect(gotB).toEqual(Array.from(b));
    }
  });

  it('encodes Unix seconds as PostgreSQL timestamps (µs since 2000-01-01) and maps indices to ids', () => {
    const bytes = encodeRows(
      [
        { kind: 'int4', values: Int32Array.of(0, 1), map: Int32Array.of(70, 80) },
        { kind: 'timestamp', values: Int32Array.of(946_684_800, 0) },
      ],
      0,
      2,
    );
    const view = new DataView(bytes.buffer);
    expect(view.getInt32(6)).toBe(70);
    expect(view.getInt32(10)).toBe(8);
    expect(view.getBigInt64(14)).toBe(0n);
    expect(view.getInt32(2 + 20 + 6)).toBe(80);
    expect(view.getBigInt64(2 + 20 + 14)).toBe(-946_684_800_000_000n);
  });
});
