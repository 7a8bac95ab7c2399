/* Codecs for the transfer protocol (docs/protocol.md §3, §4).
 * Control messages: UTF-8 JSON text, keys in the canonical order listed in
 * the spec, no whitespace. Data messages: 16-byte big-endian header + bytes.
 * Decoders validate every field; unknown keys are dropped. Pure functions. */

import {
  DATA_HEADER_LEN, DATA_TYPE, ERROR_CODES, MAX_CAPS, MAX_ERROR_MESSAGE, MAX_FILES,
  MAX_FILE_SIZE, MAX_LANES, MAX_WIRE_LANES, MAX_MIME_LEN, MAX_PEER_TEXT, MAX_TEXT_BYTES, ProtocolError,
  type AcceptEntry, type Control, type DataMsg, type ErrorCode, type FileEntry, type Hello,
} from './types';

const XFER_RE = /^[0-9a-f]{32}$/;
const SHA_RE = /^[0-9a-f]{64}$/;
const CAP_RE = /^[a-z0-9-]{1,32}$/;
const MIME_RE = /^[\x20-\x7e]*$/;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** A peer's `name` or `device` made safe to show (§5.1): control characters
 *  (C0, DEL, C1), bidi controls, zero-width and line-separator characters
 *  removed, spaces collapsed, cut to MAX_PEER_TEXT UTF-8 bytes on a
 *  character boundary. Shown as text, never as HTML. */
export function peerText(v: string): string {
  // control characters are what this strips
  // oxlint-disable-next-line no-control-regex
  let t = v.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '').replace(/\s+/g, ' ').trim();
  // a lone surrogate (not UTF-8) would end as U+FFFD; drop it instead
  t = t.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  while (enc.encode(t).length > MAX_PEER_TEXT) t = Array.from(t).slice(0, -1).join('');
  return t.trim();
}

/* ---- encoding ---- */

function fileOut(f: FileEntry) {
  return { id: f.id, name: f.name, dir: f.dir, size: f.size, mime: f.mime };
}
function acceptOut(a: AcceptEntry) {
  return a.offset > 0 ? { id: a.id, offset: a.offset, sha256: a.sha256 } : { id: a.id, offset: 0 };
}

/** Canonical JSON text of a control message (key order per the spec). */
export function encodeControl(m: Control): string {
  let o: Record<string, unknown>;
  switch (m.t) {
    case 'hello':
      o = { t: m.t, v: m.v, maxMsg: m.maxMsg, win: m.win, caps: [...m.caps] };
      if (m.lanes) o.lanes = m.lanes; // §5.10: omitted when 0
      if (m.moreLanes !== undefined) o.moreLanes = m.moreLanes; // §5.10: 8 … 15, with lanes 7
      if (m.name !== undefined) o.name = peerText(m.name);
      if (m.device !== undefined) o.device = peerText(m.device);
      break;
    case 'text': o = { t: m.t, id: m.id, text: m.text }; break;
    case 'text-ack': o = { t: m.t, id: m.id }; break;
    case 'offer': o = { t: m.t, xfer: m.xfer, files: m.files.map(fileOut) }; break;
    case 'accept': o = { t: m.t, xfer: m.xfer, files: m.files.map(acceptOut) }; break;
    case 'decline': o = { t: m.t, xfer: m.xfer }; break;
    case 'start': o = { t: m.t, xfer: m.xfer, file: m.file, offset: m.offset }; break;
    case 'end': o = { t: m.t, xfer: m.xfer, file: m.file, sha256: m.sha256 }; break;
    case 'ack': o = { t: m.t, xfer: m.xfer, file: m.file, bytes: m.bytes }; break;
    case 'verified': o = { t: m.t, xfer: m.xfer, file: m.file }; break;
    case 'cancel': o = { t: m.t, xfer: m.xfer }; break;
    case 'error':
      o = { t: m.t, code: m.code, message: m.message };
      if (m.xfer !== undefined) o.xfer = m.xfer;
      if (m.file !== undefined) o.file = m.file;
      break;
  }
  return JSON.stringify(o);
}

/** A data message; its payload is `bytes`, or `head` followed by `bytes`
 *  (a chunk that spans two reads). Written into `into` when it is given and
 *  large enough (the result is then a view of it), else into a new buffer. */
/** A DATA message (§4); `tag` is its transfer's tag (§5.11), 0 without `lane-resend`. */
export function encodeData(file: number, offset: number, bytes: Uint8Array, head?: Uint8Array, into?: Uint8Array, tag = 0): Uint8Array {
  const h = head?.length ?? 0;
  const n = DATA_HEADER_LEN + h + bytes.length;
  const out = into && into.length >= n ? into.subarray(0, n) : new Uint8Array(n);
  writeDataHeader(out, file, offset, tag);
  if (head) out.set(head, DATA_HEADER_LEN);
  out.set(bytes, DATA_HEADER_LEN + h);
  return out;
}

/** The parts as one buffer; a single part is returned as it is (no copy).
 *  `into`, when given and large enough, is used instead of a new buffer. */
export function joinBytes(parts: Uint8Array[], length = parts.reduce((n, x) => n + x.length, 0), into?: Uint8Array): Uint8Array {
  const [only] = parts;
  if (parts.length === 1 && only) return only;
  const out = into && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}

/* Byte by byte rather than through a DataView: one per message adds up
 * (about 16 thousand messages per GiB). */
export function writeDataHeader(out: Uint8Array, file: number, offset: number, tag = 0): void {
  const hi = Math.floor(offset / 2 ** 32);
  const lo = offset >>> 0;
  out[0] = DATA_TYPE;
  out[1] = 0;
  out[2] = (tag >>> 8) & 255;
  out[3] = tag & 255;
  putU32(out, 4, file);
  putU32(out, 8, hi);
  putU32(out, 12, lo);
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 255;
  out[at + 2] = (v >>> 8) & 255;
  out[at + 3] = v & 255;
}

/* ---- decoding ---- */

function bad(msg: string): never {
  throw new ProtocolError('PROTOCOL', msg);
}
function u(o: Record<string, unknown>, k: string, max = MAX_FILE_SIZE): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) bad(`${k}: not an integer in range`);
  return v;
}
function s(o: Record<string, unknown>, k: string, re?: RegExp, maxLen = 65536): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length > maxLen || (re && !re.test(v))) bad(`${k}: bad string`);
  return v;
}
function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what}: not an object`);
  return v as Record<string, unknown>;
}
function arr(o: Record<string, unknown>, k: string, min: number, max: number): unknown[] {
  const v = o[k];
  if (!Array.isArray(v) || v.length < min || v.length > max) bad(`${k}: bad array`);
  return v;
}
const FILE_ID_MAX = MAX_FILES - 1;

/* An unpaired UTF-16 surrogate: JSON.parse makes one of "\ud800", but it is
 * no Unicode text (and the C side's JSON parser refuses it). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True for valid Unicode of 1 … maxBytes UTF-8 bytes (§5.9: texts). */
export function textFits(v: string, maxBytes: number): boolean {
  // a UTF-16 unit is at most 3 UTF-8 bytes: most strings skip the encoding
  return v.length > 0 && !LONE_SURROGATE.test(v) && (v.length * 3 <= maxBytes || utf8Length(v) <= maxBytes);
}
function textMember(o: Record<string, unknown>, k: string, maxBytes: number): string {
  const v = o[k];
  if (typeof v !== 'string' || !textFits(v, maxBytes)) bad(`${k}: bad text`);
  return v;
}

/** Parses and validates one control message. Throws ProtocolError. */
export function decodeControl(text: string): Control {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('not JSON');
  }
  const o = obj(raw, 'message');
  const t = s(o, 't', undefined, 16);
  switch (t) {
    case 'hello': {
      const caps = arr(o, 'caps', 0, MAX_CAPS).map((c) => {
        if (typeof c !== 'string' || !CAP_RE.test(c)) bad('caps: bad entry');
        return c;
      });
      const h: Hello = { t, v: u(o, 'v', 65535), maxMsg: u(o, 'maxMsg', 2 ** 32 - 1), win: u(o, 'win'), caps };
      // §5.10: optional, 0 … 7; 0 is the same as absent (and is left out, so that the message re-encodes canonically)
      if (o.lanes !== undefined) {
        const lanes = u(o, 'lanes', MAX_WIRE_LANES);
        if (lanes > 0) h.lanes = lanes;
      }
      // §5.10: optional, 8 … 15, only with lanes 7
      if (o.moreLanes !== undefined) {
        const more = u(o, 'moreLanes', MAX_LANES);
        if (more <= MAX_WIRE_LANES || h.lanes !== MAX_WIRE_LANES) bad('moreLanes: 8 … 15, with lanes 7');
        h.moreLanes = more;
      }
      // Optional and only shown: a value that is not a string, or nothing once cleaned, is left out.
      const name = typeof o.name === 'string' ? peerText(o.name) : '';
      const device = typeof o.device === 'string' ? peerText(o.device) : '';
      if (name) h.name = name;
      if (device) h.device = device;
      return h;
    }
    case 'text':
      return { t, id: s(o, 'id', XFER_RE), text: textMember(o, 'text', MAX_TEXT_BYTES) };
    case 'text-ack':
      return { t, id: s(o, 'id', XFER_RE) };
    case 'offer': {
      const files = arr(o, 'files', 1, MAX_FILES).map((e, i): FileEntry => {
        const f = obj(e, 'file');
        const id = u(f, 'id', FILE_ID_MAX);
        if (id !== i) bad('files: ids must be 0..n-1 in order');
        return { id, name: s(f, 'name', undefined, 1024), dir: s(f, 'dir', undefined, 8192), size: u(f, 'size'), mime: s(f, 'mime', MIME_RE, MAX_MIME_LEN) };
      });
      return { t, xfer: s(o, 'xfer', XFER_RE), files };
    }
    case 'accept': {
      let prev = -1;
      const files = arr(o, 'files', 1, MAX_FILES).map((e): AcceptEntry => {
        const f = obj(e, 'file');
        const id = u(f, 'id', FILE_ID_MAX);
        if (id <= prev) bad('files: ids must be increasing');
        prev = id;
        const offset = u(f, 'offset');
        if (offset === 0) {
          if (f.sha256 !== undefined) bad('sha256 without offset');
          return { id, offset };
        }
        return { id, offset, sha256: s(f, 'sha256', SHA_RE) };
      });
      return { t, xfer: s(o, 'xfer', XFER_RE), files };
    }
    case 'decline':
    case 'cancel':
      return { t, xfer: s(o, 'xfer', XFER_RE) };
    case 'start':
      return { t, xfer: s(o, 'xfer', XFER_RE), file: u(o, 'file', FILE_ID_MAX), offset: u(o, 'offset') };
    case 'end':
      return { t, xfer: s(o, 'xfer', XFER_RE), file: u(o, 'file', FILE_ID_MAX), sha256: s(o, 'sha256', SHA_RE) };
    case 'ack':
      return { t, xfer: s(o, 'xfer', XFER_RE), file: u(o, 'file', FILE_ID_MAX), bytes: u(o, 'bytes') };
    case 'verified':
      return { t, xfer: s(o, 'xfer', XFER_RE), file: u(o, 'file', FILE_ID_MAX) };
    case 'error': {
      const code = s(o, 'code', /^[A-Z_]{1,32}$/);
      const m: Control = {
        t,
        // Unknown codes from a newer peer are reported as INTERNAL.
        code: (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL',
        message: s(o, 'message', undefined, MAX_ERROR_MESSAGE),
      };
      if (o.xfer !== undefined) m.xfer = s(o, 'xfer', XFER_RE);
      if (o.file !== undefined) {
        if (m.xfer === undefined) bad('file without xfer');
        m.file = u(o, 'file', FILE_ID_MAX);
      }
      return m;
    }
    default:
      bad(`unknown message type`);
  }
}

/** Parses a binary data message; `bytes` is a view into `msg`, not a copy. */
export function decodeData(msg: Uint8Array): DataMsg {
  if (msg.length <= DATA_HEADER_LEN) bad('data message without payload');
  const v = new DataView(msg.buffer, msg.byteOffset, DATA_HEADER_LEN);
  if (v.getUint8(0) !== DATA_TYPE) bad('unknown binary message type');
  if (v.getUint8(1) !== 0) bad('flags set');
  /* the reserved field: a transfer's tag with lane-resend (§5.11); whether
   * a nonzero one is allowed is the session's business */
  const tag = v.getUint16(2);
  const file = v.getUint32(4);
  if (file > FILE_ID_MAX) bad('file id out of range');
  const hi = v.getUint32(8);
  if (hi > 0x1fffff) bad('offset beyond 2^53-1');
  const offset = hi * 2 ** 32 + v.getUint32(12);
  return { file, offset, tag, bytes: msg.subarray(DATA_HEADER_LEN) };
}

export function utf8Length(s: string): number {
  return enc.encode(s).length;
}
export function utf8Encode(s: string): Uint8Array {
  return enc.encode(s);
}
export function utf8Decode(b: Uint8Array): string {
  try {
    return dec.decode(b);
  } catch {
    bad('text message is not UTF-8');
  }
}
