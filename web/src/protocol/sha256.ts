/* Incremental SHA-256. WebCrypto's digest() only hashes a whole buffer, so a
 * file of any size could not be hashed while streaming; @noble/hashes is
 * audited, dependency-free, and its hasher can be cloned (needed to prove a
 * resume prefix without stopping the running hash). */

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export interface Hasher {
  update(b: Uint8Array): void;
  /** Hex digest of everything so far; the hasher stays usable. */
  peekHex(): string;
}

export function createHasher(): Hasher {
  const h = sha256.create();
  return {
    update(b) {
      h.update(b);
    },
    peekHex() {
      return bytesToHex(h.clone().digest());
    },
  };
}

export function sha256Hex(b: Uint8Array): string {
  return bytesToHex(sha256(b));
}
