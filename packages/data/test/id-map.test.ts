import { describe, expect, it } from 'vitest';
import { IdMap } from '../src/index.ts';

describe('IdMap', () => {
  it('assigns dense indices in first-seen order, numbers and strings alike', () => {
    const m = new IdMap();
    expect(m.add(42)).toBe(0);
    expect(m.add('tt0114709')).toBe(1);
    expect(m.add('42')).toBe(0); // compared as strings
    expect(m.size).toBe(2);
    expect(m.indexOf(42)).toBe(0);
    expect(m.indexOf('nope')).toBe(-1);
    expect(m.has('tt0114709')).toBe(true);
    expect(m.externalId(1)).toBe('tt0114709');
  });

  it('throws RangeError for an index out of range', () => {
    const m = IdMap.fromJSON([1, 2]);
    expect(() => m.externalId(2)).toThrow(RangeError);
    expect(() => m.externalId(-1)).toThrow(/outside 0…1/);
  });

  it('round-trips through JSON with the same indices, and new IDs never renumber old ones', () => {
    const m = new IdMap();
    for (const id of [5, 3, 'x', 9]) m.add(id);
    const back = IdMap.fromJSON(JSON.parse(JSON.stringify(m)));
    expect(back.ids()).toEqual(['5', '3', 'x', '9']);
    for (const id of ['5', '3', 'x', '9']) expect(back.indexOf(id)).toBe(m.indexOf(id));
    back.add('new');
    expect(back.indexOf('new')).toBe(4);
    expect(back.indexOf('x')).toBe(2);
  });

  it('rejects duplicate IDs in fromJSON', () => {
    expect(() => IdMap.fromJSON(['1', 1])).toThrow(/duplicate id 1/);
  });

  it('ids() is a copy', () => {
    const m = IdMap.fromJSON(['a']);
    m.ids().push('b');
    expect(m.size).toBe(1);
  });
});
