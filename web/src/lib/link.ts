/* Room links. The password lives only in the URL fragment (#...), which the
 * browser never sends to a server; the room id is there too so that one
 * link is enough. Format: #room=<id>&key=<password> (URL-encoded). */

import { msg, type Msg } from '../i18n/catalog';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O/1/l/I

/** 23 symbols of 56: 23 * log2(56) = 133.6 bits, at least the 128 that
 * issue 14 asks of a generated secret (docs/authentication.md §3). */
export const GENERATED_KEY_LEN = 23;

/** A generated room key: GENERATED_KEY_LEN characters from a 56-symbol alphabet. */
export function generatePassword(len = GENERATED_KEY_LEN): string {
  const out: string[] = [];
  const buf = new Uint8Array(1);
  while (out.length < len) {
    // rejection sampling: 224 = 4 * 56, so every symbol is equally likely
    for (const b of crypto.getRandomValues(buf)) if (b < 224) out.push(ALPHABET.charAt(b % ALPHABET.length));
  }
  return out.join('');
}

export function newRoomId(): string {
  return crypto.randomUUID();
}

export const ROOM_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

export function buildLink(base: string, roomId: string, password: string): string {
  const u = new URL(base);
  u.search = '';
  u.hash = `room=${encodeURIComponent(roomId)}&key=${encodeURIComponent(password)}`;
  return u.toString();
}

/** What the app says of a damaged link (in English, the words of the CLI, src/cli/link.h CLI_LINK_DAMAGED). */
export const LINK_DAMAGED: Msg = msg('link.damaged');

class DamagedLink extends Error {}

/* A value as URLSearchParams decodes it ('+' a space, %XX a byte, the bytes
 * UTF-8), but strict: a malformed escape, a decoded NUL or bytes that are
 * not UTF-8 throw instead of being kept as text or replaced by U+FFFD.
 * A key mangled so would derive another PRS and fail authentication with a
 * confusing message; the CLI refuses the same links (docs/signaling.md
 * "The room link"). */
function formDecode(v: string): string {
  let out: string;
  try {
    out = decodeURIComponent(v.replace(/\+/g, ' '));
  } catch {
    throw new DamagedLink();
  }
  if (out.includes('\0')) throw new DamagedLink();
  return out;
}

/** The fragment's room and key (the first `room=` and `key=`, names as
 *  written, as the CLI reads them); `{ error }` for a damaged value; null when
 *  it names no valid room id or no key. */
export function readFragment(hash: string): { roomId: string; password: string } | { error: Msg } | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!h) return null;
  let roomId: string | null = null;
  let password: string | null = null;
  try {
    for (const part of h.split('&')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const name = part.slice(0, eq);
      if (name === 'room' && roomId === null) roomId = formDecode(part.slice(eq + 1));
      else if (name === 'key' && password === null) password = formDecode(part.slice(eq + 1));
    }
  } catch (e) {
    if (e instanceof DamagedLink) return { error: LINK_DAMAGED };
    throw e;
  }
  if (roomId === null || !ROOM_ID_RE.test(roomId) || !password) return null;
  return { roomId, password };
}

/** readFragment's room and key, or null (none, or a damaged link). */
export function parseFragment(hash: string): { roomId: string; password: string } | null {
  const f = readFragment(hash);
  return f && !('error' in f) ? f : null;
}

/** Accepts either a full link or a bare id pasted into the "room" field. */
export function parseRoomInput(s: string): { roomId: string; password?: string } | { error: Msg } | null {
  const t = s.trim();
  const i = t.indexOf('#');
  if (i >= 0) {
    const f = readFragment(t.slice(i));
    if (f) return f;
  }
  return ROOM_ID_RE.test(t) ? { roomId: t } : null;
}
