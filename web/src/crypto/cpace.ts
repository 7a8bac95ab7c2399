/* CPace, the balanced PAKE of draft-irtf-cfrg-cpace, cipher suite
 * CPACE-RISTR255-SHA512 (ristretto255 of RFC 9496, H = SHA-512), written
 * from the draft's text on @noble/curves' ristretto255 and @noble/hashes'
 * SHA-512. The C twin is src/pake/cpace.c; both replay the draft's
 * vectors (docs/vectors/cpace-ristretto255.json).
 *
 * Pure and deterministic except sampleScalar(), so vectors replay exactly.
 * K never leaves finish() (draft, "Key derivation": "MUST NOT expose K") except through
 * scalarMultVfy(), the draft's building block, used by the tests. */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

export const DSI = new TextEncoder().encode('CPaceRistretto255');
export const POINT_LEN = 32;
export const SCALAR_LEN = 32;
export const ISK_LEN = 64;
/** SHA-512's input block: the generator string's zero padding fills it. */
export const S_IN_BYTES = 128;
/** G.I, the encoding of the identity element. */
export const IDENTITY = new Uint8Array(POINT_LEN);

/** The peer's point did not decode or gave the identity: abort (draft, "CPace protocol instructions"). */
export class CPaceAbort extends Error {
  constructor() {
    super('invalid point or the identity element');
  }
}

export type Mode = 'ir' | 'oc';

// ---------------- string utilities (draft appendix) ----------------

/** LEB128 of n: 7 bits per byte, least significant first, bit 7 set while more follow. */
export function lenHeader(n: number): Uint8Array {
  const out: number[] = [];
  do {
    const b = n % 128;
    n = Math.floor(n / 128);
    out.push(n ? b | 0x80 : b);
  } while (n);
  return Uint8Array.from(out);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function prependLen(s: Uint8Array): Uint8Array {
  return concat(lenHeader(s.length), s);
}

export function lvCat(...parts: Uint8Array[]): Uint8Array {
  return concat(...parts.map(prependLen));
}

export function lexiographicallyLarger(a: Uint8Array, b: Uint8Array): boolean {
  for (const [i, x] of a.entries()) {
    const y = b[i];
    if (y === undefined) break; // b is a prefix of a: the longer is larger
    if (x > y) return true;
    if (x < y) return false;
  }
  return a.length > b.length;
}

const OC = new TextEncoder().encode('oc');

export function oCat(a: Uint8Array, b: Uint8Array): Uint8Array {
  return lexiographicallyLarger(a, b) ? concat(OC, a, b) : concat(OC, b, a);
}

export function transcript(mode: Mode, ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return mode === 'ir' ? concat(lvCat(ya, ada), lvCat(yb, adb)) : oCat(lvCat(ya, ada), lvCat(yb, adb));
}

/** lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid), padded to fill SHA-512's first block. */
export function generatorString(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).length - prependLen(DSI).length);
  return lvCat(DSI, prs, new Uint8Array(zpad), ci, sid);
}

// ---------------- the group G_Ristretto255 ----------------

type Point = InstanceType<typeof ristretto255.Point>;
const ORDER = ristretto255.Point.Fn.ORDER;

/** The generator from PRS, CI, sid (secret: it depends on the password). */
export function calculateGenerator(prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Point {
  const gs = generatorString(prs, ci, sid);
  const h = sha512(gs);
  gs.fill(0);
  // RFC 9496 §4.3.4 element derivation from 64 uniform bytes
  const derive = ristretto255_hasher.deriveToCurve;
  if (!derive) throw new Error('@noble/curves without ristretto255 element derivation');
  const g = derive.call(ristretto255_hasher, h);
  h.fill(0);
  return g as Point;
}

/** 32 random bytes with the bits above 252 cleared (the draft's recommended G.sample_scalar for ristretto255). */
export function sampleScalar(): Uint8Array {
  const y = crypto.getRandomValues(new Uint8Array(SCALAR_LEN));
  y[31] = (y[31] as number) & 0x0f; // SCALAR_LEN = 32 bytes
  return y;
}

/* A 32-byte little-endian scalar as libsodium's crypto_scalarmult_ristretto255
 * reads it (bit 255 cleared), reduced mod the group order, which is the same
 * multiple of a prime-order element. */
function scalarOf(y: Uint8Array): bigint {
  if (y.length !== SCALAR_LEN) throw new RangeError('scalar must be 32 bytes');
  let n = 0n;
  for (const [i, b] of [...y.entries()].reverse()) n = (n << 8n) | BigInt(i === 31 ? b & 0x7f : b);
  return n % ORDER;
}

function mult(y: Uint8Array, p: Point): Uint8Array {
  const s = scalarOf(y);
  if (s === 0n) throw new CPaceAbort();
  const r = p.multiply(s);
  if (r.is0()) throw new CPaceAbort();
  return r.toBytes();
}

/** Y = encode(y * g) for our own generator. */
export function scalarMult(y: Uint8Array, g: Point): Uint8Array {
  return mult(y, g);
}

/** encode(y * decode(X)); G.I when X does not decode or the result is the identity. */
export function scalarMultVfy(y: Uint8Array, x: Uint8Array): Uint8Array {
  let p: Point;
  try {
    if (x.length !== POINT_LEN) return IDENTITY.slice();
    p = ristretto255.Point.fromBytes(x);
  } catch {
    return IDENTITY.slice();
  }
  try {
    return mult(y, p);
  } catch {
    return IDENTITY.slice();
  }
}

const DSI_ISK = concat(DSI, new TextEncoder().encode('_ISK'));

/** ISK = SHA-512(lv_cat(DSI || "_ISK", sid, K) || transcript(Ya,ADa,Yb,ADb)) */
export function isk(mode: Mode, sid: Uint8Array, k: Uint8Array, ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  const input = concat(lvCat(DSI_ISK, sid, k), transcript(mode, ya, ada, yb, adb));
  const out = sha512(input);
  input.fill(0);
  return out;
}

/** sid_output = SHA-512("CPaceSidOutput" || transcript(...)) (draft, "Calculating a session identifier") */
export function sidOutput(mode: Mode, ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return sha512(concat(new TextEncoder().encode('CPaceSidOutput'), transcript(mode, ya, ada, yb, adb)));
}

// ---------------- one party's two steps ----------------

/** Our public share Y = scalar_mult(y, calculate_generator(PRS, CI, sid)). */
export function share(y: Uint8Array, prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  return scalarMult(y, calculateGenerator(prs, ci, sid));
}

/** After the peer's share: K = scalar_mult_vfy(y, the other party's Y);
 * throws CPaceAbort when K = G.I, else returns the ISK. `self` says which of
 * Ya / Yb is ours. */
export function finish(
  mode: Mode, self: 'A' | 'B', y: Uint8Array, sid: Uint8Array,
  ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array,
): Uint8Array {
  const peer = self === 'A' ? yb : ya;
  if (peer.length !== POINT_LEN) throw new CPaceAbort();
  const k = scalarMultVfy(y, peer);
  if (k.every((b) => b === 0)) throw new CPaceAbort();
  const out = isk(mode, sid, k, ya, ada, yb, adb);
  k.fill(0);
  return out;
}
