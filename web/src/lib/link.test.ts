import { describe, expect, it } from 'vitest';
import { GENERATED_KEY_LEN, LINK_DAMAGED, generatePassword, parseFragment, parseRoomInput, readFragment } from './link';
import { parseReceiveInput } from './code';

describe('generated link keys', () => {
  it('carry at least 128 bits (issue 14): 23 symbols of 56', () => {
    expect(GENERATED_KEY_LEN * Math.log2(56)).toBeGreaterThanOrEqual(128);
    const keys = Array.from({ length: 50 }, () => generatePassword());
    for (const k of keys) expect(k).toMatch(/^[a-km-zA-HJ-NP-Z2-9]{23}$/);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('links with any key length still parse', () => {
    expect(parseFragment('#room=r1&key=abc')).toEqual({ roomId: 'r1', password: 'abc' });
    expect(parseFragment(`#room=r1&key=${'x'.repeat(1024)}`)?.password.length).toBe(1024);
  });
});

describe('damaged links (one rule with the CLI: tests/unit/test_cli_link.c, the same cases)', () => {
  const damaged = [
    '#room=a&key=%zz',
    '#room=a&key=ab%',
    '#room=a&key=%4',
    '#room=a&key=x%g1y',
    '#room=a&key=a%00b',
    '#room=a&key=%FF',
    '#room=a&key=%C3%28',
    '#room=a&key=%ED%A0%80',
    '#room=%zz&key=k',
    '#key=%E9t%E9&room=a',
  ];
  it('are refused with a clear error, never joined with the escape kept as text or bytes replaced', () => {
    for (const h of damaged) {
      expect(readFragment(h), h).toEqual({ error: LINK_DAMAGED });
      expect(parseFragment(h), h).toBeNull();
      expect(parseRoomInput(`https://peerdrop.example/${h}`), h).toEqual({ error: LINK_DAMAGED });
      expect(parseReceiveInput(`https://peerdrop.example/${h}`), h).toEqual({ kind: 'error', error: LINK_DAMAGED });
    }
  });
  it('well-formed escapes, + and a later damaged key= are fine, as in the CLI', () => {
    expect(readFragment('#room=a&key=%C3%A9t%C3%A9')).toEqual({ roomId: 'a', password: 'été' });
    expect(readFragment('#room=abc&key=x+y%2Bz')).toEqual({ roomId: 'abc', password: 'x y+z' });
    expect(readFragment('#key=k&v=1&room=a&room=b&key=later')).toEqual({ roomId: 'a', password: 'k' });
    expect(readFragment('#room=a&key=k&key=%zz')).toEqual({ roomId: 'a', password: 'k' });
    expect(readFragment('#room=a%2Fb&key=k')).toBeNull(); // not a room id: not "damaged"
  });
});
