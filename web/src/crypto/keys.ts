/* Peerdrop's key schedule (docs/authentication.md §3), the twin of
 * src/pake/keys.c: from the room secret and the room id to
 *
 *   salt      = SHA-512(lv_cat(LABEL_SALT, room))[0..16]
 *   stretched = Argon2id v1.3 (secret, salt, t = 2, m = 64 MiB, p = 1), 32 bytes
 *   admission = HKDF-SHA-512(stretched, salt "", info LABEL_ADMISSION), 32 bytes
 *   prs       = HKDF-SHA-512(stretched, salt "", info LABEL_PRS), 32 bytes
 *
 * `admission` (64 lowercase hex digits) is what create-room / join-room
 * send instead of the password; `prs` is CPace's password and never
 * leaves the page. Argon2id takes ~0.75 s here (@noble/hashes, 2-core VM):
 * call deriveKeysAsync from the UI so the page stays responsive. */
import { argon2id, argon2idAsync } from '@noble/hashes/argon2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { lvCat } from './cpace';
import { hex, utf8 } from './bytes';

export const SUITE = 'CPACE-RISTR255-SHA512';
export const LABEL_SALT = 'peerdrop/auth/v1 salt';
export const LABEL_ADMISSION = 'peerdrop/auth/v1 admission';
export const LABEL_PRS = 'peerdrop/auth/v1 cpace prs';
export const LABEL_CI = `peerdrop/auth/v1 ${SUITE}`;
export const LABEL_COMMIT = 'peerdrop/auth/v1 commit';
export const LABEL_SAS = 'peerdrop/auth/v1 sas';

/** libsodium's crypto_pwhash_*_INTERACTIVE, the server's own default. */
export const ARGON2 = { t: 2, m: 65536, p: 1, dkLen: 32 } as const;
export const SECRET_MAX = 1024; // docs/signaling.md: the password limit
export const ROOM_MAX = 128;
export const SID_LEN = 16;

export interface Keys {
  /** sent to the server (hex) instead of the password */
  admission: Uint8Array;
  /** CPace's PRS: never leaves the client */
  prs: Uint8Array;
}

export function salt(room: string): Uint8Array {
  return sha512(lvCat(utf8(LABEL_SALT), utf8(room))).slice(0, 16);
}

export function hkdfSha512(ikm: Uint8Array, info: string, len: number): Uint8Array {
  return hkdf(sha512, ikm, undefined, utf8(info), len);
}

export function split(stretched: Uint8Array): Keys {
  return { admission: hkdfSha512(stretched, LABEL_ADMISSION, 32), prs: hkdfSha512(stretched, LABEL_PRS, 32) };
}

function checkArgs(secret: Uint8Array, room: string): void {
  if (secret.length < 1 || secret.length > SECRET_MAX) throw new RangeError('secret must be 1-1024 bytes');
  if (utf8(room).length < 1 || utf8(room).length > ROOM_MAX) throw new RangeError('room id must be 1-128 bytes');
}

/** The room secret as bytes: the link's key or a typed password, in
 * Unicode NFC (RFC 8265's OpaqueString profile normalises the same way),
 * so that the same password typed on two systems gives the same bytes. */
export function secretBytes(secret: string): Uint8Array {
  return utf8(secret.normalize('NFC'));
}

export function deriveKeys(secret: Uint8Array, room: string): Keys {
  checkArgs(secret, room);
  const stretched = argon2id(secret, salt(room), ARGON2);
  const k = split(stretched);
  stretched.fill(0);
  return k;
}

export async function deriveKeysAsync(secret: Uint8Array, room: string): Promise<Keys> {
  checkArgs(secret, room);
  const stretched = await argon2idAsync(secret, salt(room), ARGON2);
  const k = split(stretched);
  stretched.fill(0);
  return k;
}

export function admissionHex(k: Keys): string {
  return hex(k.admission);
}

/** CI = lv_cat(LABEL_CI, room, offerer's socket id, answerer's socket id). */
export function channelId(room: string, offererId: string, answererId: string): Uint8Array {
  return lvCat(utf8(LABEL_CI), utf8(room), utf8(offererId), utf8(answererId));
}
