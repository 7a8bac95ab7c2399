import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHasher, sha256Engine, sha256Hex } from './sha256';
import { must } from '../testing/must';

const ref = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('sha256', () => {
  it('uses the WebAssembly block function', () => {
    expect(sha256Engine()).toBe('wasm');
  });
  it('matches known digests', () => {
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('matches node for every length around the padding edges', () => {
    const data = randomBytes(300);
    for (let n = 0; n <= 300; n++) expect(sha256Hex(data.subarray(0, n))).toBe(ref(data.subarray(0, n)));
  });
  it('streams in uneven updates, larger than the wasm input, and peeks without disturbing', () => {
    const data = randomBytes(3 * (1 << 20) + 12345);
    const h = createHasher();
    let p = 0;
    const steps = [1, 63, 64, 65, 1000, 1 << 20, (1 << 20) + 7, 4096];
    for (let i = 0; p < data.length; i++) {
      const n = Math.min(must(steps[i % steps.length], 'a step'), data.length - p);
      h.update(data.subarray(p, p + n));
      p += n;
      if (i % 3 === 0) expect(h.peekHex()).toBe(ref(data.subarray(0, p)));
    }
    expect(h.peekHex()).toBe(ref(data));
  });
});
