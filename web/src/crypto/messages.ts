/* The authentication messages that open every data channel
 * (docs/authentication.md §7), the twin of src/pake/pake_msg.c. Control
 * messages of docs/protocol.md §3 (JSON text, canonical form, lowercase
 * hex), sent before `hello`:
 *   {"t":"pake-start","suite":"CPACE-RISTR255-SHA512","sid":<32 hex>,"commit":<128 hex>}
 *   {"t":"pake-share","y":<64 hex>}
 *   {"t":"pake-confirm","mac":<128 hex>}
 * Any valid JSON object is accepted, unknown members ignored; every value
 * must match its pattern exactly. */
import { SUITE } from './keys';
import { hex, unhex, utf8 } from './bytes';

/** The canonical pake-start is 231 bytes; whitespace and unknown members fit in 1024. */
export const MSG_MAX_LEN = 1024;

export type PakeMsg =
  | { t: 'pake-start'; sid: Uint8Array; commit: Uint8Array }
  | { t: 'pake-share'; y: Uint8Array }
  | { t: 'pake-confirm'; mac: Uint8Array };

/** Why a text is not a usable authentication message; the same names as
 * the C codec's PAKE_E_TOO_BIG / NOT_PAKE / SUITE / MSG. NOT_PAKE (and
 * TOO_BIG) texts go to the transfer codec: they may be an `error`. */
export type PakeMsgProblem = 'TOO_BIG' | 'NOT_PAKE' | 'SUITE' | 'MSG';

export class PakeMsgError extends Error {
  constructor(readonly problem: PakeMsgProblem, message: string) {
    super(message);
  }
}

function bad(problem: PakeMsgProblem, msg: string): never {
  throw new PakeMsgError(problem, msg);
}

function hexMember(o: Record<string, unknown>, k: string, bytes: number): Uint8Array {
  const v = o[k];
  if (typeof v !== 'string' || v.length !== 2 * bytes || !/^[0-9a-f]*$/.test(v)) bad('MSG', `${k}: not ${2 * bytes} lowercase hex digits`);
  return unhex(v);
}

export function decodePakeMsg(text: string): PakeMsg {
  if (utf8(text).length > MSG_MAX_LEN) bad('TOO_BIG', 'authentication message too long');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('MSG', 'not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('MSG', 'not an object');
  const o = raw as Record<string, unknown>;
  if (typeof o.t !== 'string') bad('MSG', 't: not a string');
  switch (o.t) {
    case 'pake-start': {
      if (typeof o.suite !== 'string') bad('MSG', 'suite: not a string');
      const sid = hexMember(o, 'sid', 16);
      const commit = hexMember(o, 'commit', 64);
      if (o.suite !== SUITE) bad('SUITE', `unsupported suite`);
      return { t: 'pake-start', sid, commit };
    }
    case 'pake-share':
      return { t: 'pake-share', y: hexMember(o, 'y', 32) };
    case 'pake-confirm':
      return { t: 'pake-confirm', mac: hexMember(o, 'mac', 64) };
    default:
      bad('NOT_PAKE', 'not an authentication message');
  }
}

/** The canonical form, byte for byte what pake_msg_encode writes. */
export function encodePakeMsg(m: PakeMsg): string {
  switch (m.t) {
    case 'pake-start':
      if (m.sid.length !== 16 || m.commit.length !== 64) throw new RangeError('bad pake-start');
      return `{"t":"pake-start","suite":"${SUITE}","sid":"${hex(m.sid)}","commit":"${hex(m.commit)}"}`;
    case 'pake-share':
      if (m.y.length !== 32) throw new RangeError('bad pake-share');
      return `{"t":"pake-share","y":"${hex(m.y)}"}`;
    case 'pake-confirm':
      if (m.mac.length !== 64) throw new RangeError('bad pake-confirm');
      return `{"t":"pake-confirm","mac":"${hex(m.mac)}"}`;
  }
}
