import { describe, expect, it } from 'vitest';
import { GENERATED_KEY_LEN, generatePassword, parseFragment } from './link';

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
