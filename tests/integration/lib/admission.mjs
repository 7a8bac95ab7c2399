// The admission value a Peerdrop client sends as the `password` of
// create-room / join-room (docs/authentication.md §3, issue 14), for tests
// whose own Socket.IO client joins a room that the CLI or the web app
// made: a member that has the link derives what the clients derive. Same
// libraries as the web app (@noble/hashes); checked against the shared
// vectors (web/src/crypto/auth-vectors.json) the first time it runs, so it
// cannot drift from the clients unnoticed.
//
//   salt      = SHA-512(lv_cat("peerdrop/auth/v1 salt", room))[0..16]
//   stretched = Argon2id(NFC(secret), salt, t = 2, m = 64 MiB, p = 1), 32 bytes
//   admission = hex(HKDF-SHA-512(stretched, "", "peerdrop/auth/v1 admission", 32))

import { readFileSync } from "node:fs";
import { argon2idAsync } from "@noble/hashes/argon2.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha512 } from "@noble/hashes/sha2.js";

const utf8 = (s) => new TextEncoder().encode(s);
const hex = (b) => Buffer.from(b).toString("hex");

/* lv_cat: each field preceded by its length in LEB128 (the CPace draft's prepend_len) */
function lvCat(...parts) {
  const out = [];
  for (const p of parts) {
    let n = p.length;
    do {
      const b = n % 128;
      n = Math.floor(n / 128);
      out.push(n ? b | 0x80 : b);
    } while (n);
    out.push(...p);
  }
  return Uint8Array.from(out);
}

async function derive(secret, roomId) {
  const salt = sha512(lvCat(utf8("peerdrop/auth/v1 salt"), utf8(roomId))).slice(0, 16);
  const stretched = await argon2idAsync(utf8(secret.normalize("NFC")), salt, { t: 2, m: 65536, p: 1, dkLen: 32 });
  return hex(hkdf(sha512, stretched, undefined, utf8("peerdrop/auth/v1 admission"), 32));
}

let checked = null;
function check() {
  checked ??= (async () => {
    const v = JSON.parse(readFileSync(new URL("../../../web/src/crypto/auth-vectors.json", import.meta.url), "utf8"));
    for (const k of v.keySchedule.slice(0, 2)) {
      const got = await derive(k.secret, k.room);
      if (got !== k.admission) throw new Error(`lib/admission.mjs disagrees with auth-vectors.json (${k.name})`);
    }
  })();
  return checked;
}

/** The 64-hex admission value for a room secret (the link's key or a password) and room id. */
export async function admission(secret, roomId) {
  await check();
  return derive(secret, roomId);
}
