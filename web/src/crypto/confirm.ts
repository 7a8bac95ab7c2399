/* What binds a CPace run to the WebRTC connection it protects
 * (docs/authentication.md §4-5), the twin of src/pake/confirm.c:
 * canonical DTLS fingerprints, the offerer's commitment to its share
 * (it sends pake-start first: docs/protocol.md §5.1),
 * and the key confirmation of the draft's "Key confirmation" section over both fingerprints:
 *   mac_key = SHA-512("CPaceMac" || sid || ISK)
 *   Ta = HMAC-SHA-512(mac_key, lv_cat(Ya, ADa, fp_offerer, fp_answerer))
 *   Tb = HMAC-SHA-512(mac_key, lv_cat(Yb, ADb, fp_offerer, fp_answerer)) */
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concat, lvCat, POINT_LEN } from './cpace';
import { LABEL_COMMIT } from './keys';
import { equalCT, utf8 } from './bytes';

const FP_HASHES: Record<string, number> = { 'sha-256': 32, 'sha-384': 48, 'sha-512': 64 };

/** From an SDP fingerprint ("a=fingerprint:sha-256 AB:CD:…", with or without
 * the prefix and one trailing CRLF or LF) to "sha-256 abcd…"; null for
 * anything but sha-256/384/512 with a digest of exactly their length. */
export function canonicalFingerprint(line: string): string | null {
  let s = line.startsWith('a=fingerprint:') ? line.slice('a=fingerprint:'.length) : line;
  if (s.endsWith('\r\n')) s = s.slice(0, -2);
  else if (s.endsWith('\n')) s = s.slice(0, -1);
  const sp = s.indexOf(' ');
  if (sp < 0) return null;
  const name = s.slice(0, sp);
  const fp = s.slice(sp + 1);
  // RFC 8122 §5: hash-func tokens compare case-insensitively (ASCII only)
  const lower = name.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const n = Object.prototype.hasOwnProperty.call(FP_HASHES, lower) ? FP_HASHES[lower] : 0;
  if (!n || fp.length !== 3 * n - 1) return null;
  if (!new RegExp(`^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){${n - 1}}$`).test(fp)) return null;
  return `${lower} ${fp.replace(/:/g, '').replace(/[A-F]/g, (c) => c.toLowerCase())}`;
}

/** SHA-512(lv_cat(LABEL_COMMIT, sid, Ya)): the offerer's share, bound
 * before it sees Yb. */
export function commitment(sid: Uint8Array, ya: Uint8Array): Uint8Array {
  return sha512(lvCat(utf8(LABEL_COMMIT), sid, ya));
}

/** The revealed Ya against the commitment, in constant time. */
export function commitmentMatches(commit: Uint8Array, sid: Uint8Array, ya: Uint8Array): boolean {
  return ya.length === POINT_LEN && equalCT(commitment(sid, ya), commit);
}

/** the draft's "Key confirmation", verbatim: "CPaceMac" || sid || ISK, no length prefixes */
export function macKey(sid: Uint8Array, isk: Uint8Array): Uint8Array {
  return sha512(concat(utf8('CPaceMac'), sid, isk));
}

/** The tag of the party whose share is y, over both canonical
 * fingerprints, offerer's first. */
export function confirmTag(key: Uint8Array, y: Uint8Array, ad: Uint8Array, fpOfferer: string, fpAnswerer: string): Uint8Array {
  return hmac(sha512, key, lvCat(y, ad, utf8(fpOfferer), utf8(fpAnswerer)));
}

export function confirmTagMatches(
  tag: Uint8Array, key: Uint8Array, y: Uint8Array, ad: Uint8Array, fpOfferer: string, fpAnswerer: string,
): boolean {
  return equalCT(confirmTag(key, y, ad, fpOfferer, fpAnswerer), tag);
}

/** The DTLS fingerprint an SDP commits to, canonical: every
 * `a=fingerprint` line (session- or media-level) must parse and name the
 * same certificate, and there must be one; otherwise null (refused: with
 * two there would be a choice of which one to MAC, docs/authentication.md
 * §6). Browsers repeat the one certificate in each m-section. */
export function sdpFingerprint(sdp: string): string | null {
  let fp: string | null = null;
  for (const line of sdp.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (!l.startsWith('a=fingerprint:')) continue;
    const c = canonicalFingerprint(l);
    if (!c || (fp !== null && fp !== c)) return null;
    fp = c;
  }
  return fp;
}
