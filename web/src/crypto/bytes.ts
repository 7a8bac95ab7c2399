/* Hex and UTF-8 helpers shared by the crypto modules and their tests. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Lowercase or uppercase hex to bytes; throws on anything else. */
export function unhex(h: string): Uint8Array {
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error('not hex');
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Constant-time comparison of two equal-length byte strings. */
export function equalCT(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  a.forEach((x, i) => {
    d |= x ^ (b[i] as number); // in bounds: the lengths are equal
  });
  return d === 0;
}
